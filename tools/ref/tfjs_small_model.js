#!/usr/bin/env node
// Writes a tiny model saved by TF.js itself (not converted from Keras), so
// the reader is tested on the layout tfjs-layers writes with model.save():
// modelTopology is the Keras config directly, the input shape sits in the
// first layer's batch_input_shape, and the weights are plain float32.
//
// usage: node tools/ref/tfjs_small_model.js [OUT_DIR]
//        (default tests/fixtures/keras/tfjs_sequential)
// Model: Flatten(inputShape [4, 4, 1]) -> Dense(3, softmax), with weights
// set by formula: kernel element i (row-major, shape [16, 3]) is
// ((i mod 7) - 3) / 8, bias is [0.5, -0.25, 1].
'use strict';

const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');

const outDir = path.resolve(process.argv[2] ||
    path.join(__dirname, '..', '..', 'tests/fixtures/keras/tfjs_sequential'));

async function main() {
    await tf.setBackend('cpu');
    const model = tf.sequential({name: 'tfjs_small'});
    model.add(tf.layers.flatten({inputShape: [4, 4, 1], name: 'flatten'}));
    model.add(tf.layers.dense({units: 3, activation: 'softmax', name: 'dense'}));
    const kernel = Float32Array.from({length: 48}, (_, i) => ((i % 7) - 3) / 8);
    model.getLayer('dense').setWeights([tf.tensor2d(kernel, [16, 3]),
        tf.tensor1d([0.5, -0.25, 1])]);

    await model.save(tf.io.withSaveHandler(async (a) => {
        fs.mkdirSync(outDir, {recursive: true});
        fs.writeFileSync(path.join(outDir, 'weights.bin'), Buffer.from(a.weightData));
        const json = {modelTopology: a.modelTopology, format: a.format,
            generatedBy: a.generatedBy, convertedBy: a.convertedBy,
            weightsManifest: [{paths: ['weights.bin'], weights: a.weightSpecs}]};
        fs.writeFileSync(path.join(outDir, 'model.json'), JSON.stringify(json) + '\n');
        return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
    }));
    console.log(`tfjs_small_model: wrote ${outDir}`);
}

main().catch((e) => {
    process.stderr.write(`tfjs_small_model: error: ${e.stack || e.message}\n`);
    process.exit(1);
});
