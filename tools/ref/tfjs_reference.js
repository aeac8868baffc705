#!/usr/bin/env node
// Reference outputs of the nsfwjs MobileNetV2 for clfit's tests, computed
// by an independent implementation: the pure-JavaScript TensorFlow.js
// (@tensorflow/tfjs, version pinned in package.json, backend "cpu", float32).
//
// usage (from the repository root, after tools/fetch_mobilenet.sh):
//   (cd tools/ref && npm ci) && node tools/ref/tfjs_reference.js [MODEL_DIR] [OUT_DIR]
// defaults: MODEL_DIR = models/mobilenet_v2, OUT_DIR = tests/fixtures/mobilenet
//
// Inputs are uint8 RGB images (HWC) made here and written next to the
// outputs, so the C tests read exactly the same pixels:
//   img_a_S: Fashion-MNIST test image 0 (an ankle boot), 28x28 grey scaled
//            to SxS by nearest neighbour (source pixel floor(i * 28 / S)),
//            grey copied to R, G and B;
//   img_b_S: integer formula, x = column, y = row, h = S / 2:
//            R = (7x + 3y) mod 256
//            G = floor(255 * ((x-h)^2 + (y-h)^2) / (2 h^2)), capped at 255
//            B = 200 if (floor(x/8) + floor(y/8)) is odd, else 40.
// The model sees float32(pixel) / 255 (what nsfwjs itself feeds it).
// Every tensor is written as raw little-endian float32 (or uint8 for the
// images), listed with its shape in OUT_DIR/index.json.
'use strict';

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const tf = require('@tensorflow/tfjs');

const FMNIST = '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz';
const CUT = 'out_relu';
// Small intermediate activations of img_a_96, for locating a mismatch.
const PROBES = ['Conv1_relu', 'block_2_add', 'block_16_project_BN'];
// Tensors whose dequantised values TF.js computed are recorded exactly.
const WEIGHT_PROBES = ['Conv1/kernel', 'bn_Conv1/moving_variance',
    'block_1_depthwise/depthwise_kernel', 'dense_3/kernel', 'dense_3/bias'];

const root = path.resolve(__dirname, '..', '..');
const modelDir = path.resolve(process.argv[2] || path.join(root, 'models/mobilenet_v2'));
const outDir = path.resolve(process.argv[3] || path.join(root, 'tests/fixtures/mobilenet'));
const index = [];

function die(msg) {
    process.stderr.write(`tfjs_reference: error: ${msg}\n`);
    process.exit(1);
}

// ---- Inputs ----

function fashionImage(i) {
    const raw = zlib.gunzipSync(fs.readFileSync(FMNIST));
    if (raw.readUInt32BE(0) !== 2051 || raw.readUInt32BE(8) !== 28)
        die(`${FMNIST} is not an IDX image file of 28x28 images`);
    return raw.subarray(16 + i * 784, 16 + (i + 1) * 784);
}

function imageA(s) {
    const src = fashionImage(0), px = new Uint8Array(s * s * 3);
    for (let y = 0; y < s; y++)
        for (let x = 0; x < s; x++) {
            const v = src[Math.floor(y * 28 / s) * 28 + Math.floor(x * 28 / s)];
            px.fill(v, (y * s + x) * 3, (y * s + x) * 3 + 3);
        }
    return px;
}

function imageB(s) {
    const px = new Uint8Array(s * s * 3), h = s / 2;
    for (let y = 0; y < s; y++)
        for (let x = 0; x < s; x++) {
            const o = (y * s + x) * 3;
            const r2 = (x - h) * (x - h) + (y - h) * (y - h);
            px[o] = (7 * x + 3 * y) % 256;
            px[o + 1] = Math.min(255, Math.floor(255 * r2 / (2 * h * h)));
            px[o + 2] = (Math.floor(x / 8) + Math.floor(y / 8)) % 2 ? 200 : 40;
        }
    return px;
}

// ---- Files ----

function writeTensor(name, dtype, shape, data, extra) {
    const file = `${name}.${dtype === 'uint8' ? 'u8' : 'f32'}`;
    let buf;
    if (dtype === 'uint8') {
        buf = Buffer.from(data);
    } else {
        buf = Buffer.alloc(data.length * 4);
        data.forEach((v, i) => buf.writeFloatLE(v, i * 4));
    }
    if (buf.length !== shape.reduce((a, b) => a * b, 1) * (dtype === 'uint8' ? 1 : 4))
        die(`${name}: ${buf.length} bytes do not match shape ${shape}`);
    fs.writeFileSync(path.join(outDir, file), buf);
    index.push(Object.assign({name, file, dtype, shape}, extra));
}

// ---- Models ----

async function loadFull() {
    const json = JSON.parse(fs.readFileSync(path.join(modelDir, 'model.json'), 'utf8'));
    const specs = [], parts = [];
    for (const group of json.weightsManifest) {
        for (const p of group.paths)
            parts.push(fs.readFileSync(path.join(modelDir, p)));
        specs.push(...group.weights);
    }
    const bytes = Buffer.concat(parts);
    const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
    const handler = tf.io.fromMemory({modelTopology: json.modelTopology, weightSpecs: specs,
        weightData});
    return {json, model: await tf.loadLayersModel(handler)};
}

// Names of the layers `out` depends on (itself included).
function ancestors(layers, out) {
    const byName = new Map(layers.map((l) => [l.name, l]));
    const keep = new Set(), todo = [out];
    while (todo.length) {
        const name = todo.pop();
        if (keep.has(name))
            continue;
        keep.add(name);
        for (const node of byName.get(name).inbound_nodes)
            for (const ref of node)
                todo.push(ref[0]);
    }
    return keep;
}

// The model cut after layer `out`, for s x s inputs, built from the same
// topology JSON with the full model's weights copied in layer by layer.
async function cutModel(full, json, out, s) {
    const cfg = JSON.parse(JSON.stringify(json.modelTopology.model_config));
    const keep = ancestors(cfg.config.layers, out);
    cfg.config.layers = cfg.config.layers.filter((l) => keep.has(l.name));
    cfg.config.output_layers = [[out, 0, 0]];
    for (const l of cfg.config.layers)
        if (l.class_name === 'InputLayer')
            l.config.batch_input_shape = [null, s, s, 3];
    const cut = await tf.models.modelFromJSON({modelTopology: cfg});
    for (const layer of cut.layers)
        layer.setWeights(full.getLayer(layer.name).getWeights());
    return cut;
}

function run(model, pixels, s) {
    return tf.tidy(() => {
        const x = tf.tensor4d(Float32Array.from(pixels), [1, s, s, 3]).div(255);
        const y = model.predict(x);
        return (Array.isArray(y) ? y : [y]).map((t) => t.dataSync().slice());
    });
}

function weightProbes(full) {
    const out = {};
    for (const name of WEIGHT_PROBES) {
        const [layer, v] = name.split('/');
        const w = full.getLayer(layer).weights.find((x) => x.originalName === name ||
            x.name.endsWith(`/${v}`));
        if (!w)
            die(`weight ${name} not found in the loaded model`);
        const d = w.read().dataSync();
        out[name] = {count: d.length, first: Array.from(d.slice(0, 8)),
            sum: d.reduce((a, b) => a + b, 0)};
    }
    return out;
}

async function main() {
    await tf.setBackend('cpu');
    fs.mkdirSync(outDir, {recursive: true});
    const {json, model: full} = await loadFull();

    const images = {};
    for (const s of [224, 96]) {
        images[`img_a_${s}`] = imageA(s);
        images[`img_b_${s}`] = imageB(s);
        writeTensor(`img_a_${s}`, 'uint8', [s, s, 3], images[`img_a_${s}`],
            {source: `Fashion-MNIST t10k image 0, nearest-neighbour to ${s}x${s}, grey as RGB`});
        writeTensor(`img_b_${s}`, 'uint8', [s, s, 3], images[`img_b_${s}`],
            {source: 'integer formula (see tools/ref/tfjs_reference.js)'});
    }

    const last = full.layers[full.layers.length - 1].name;
    for (const k of ['a', 'b']) {
        const [p] = run(full, images[`img_${k}_224`], 224);
        writeTensor(`full_${k}_224`, 'float32', [5], p,
            {input: `img_${k}_224`, model: 'full', layer: last,
             note: 'softmax probabilities of the 5 classes'});
    }

    const cut224 = await cutModel(full, json, CUT, 224);
    writeTensor('out_relu_a_224', 'float32', [7, 7, 1280], run(cut224, images.img_a_224, 224)[0],
        {input: 'img_a_224', model: `cut:${CUT}`, layer: CUT});

    const cut96 = await cutModel(full, json, CUT, 96);
    for (const k of ['a', 'b'])
        writeTensor(`out_relu_${k}_96`, 'float32', [3, 3, 1280],
            run(cut96, images[`img_${k}_96`], 96)[0],
            {input: `img_${k}_96`, model: `cut:${CUT}`, layer: CUT});

    const probe = tf.model({inputs: cut96.inputs,
        outputs: PROBES.map((n) => cut96.getLayer(n).output)});
    run(probe, images.img_a_96, 96).forEach((d, i) => {
        const shape = cut96.getLayer(PROBES[i]).outputShape.slice(1);
        writeTensor(`${PROBES[i]}_a_96`, 'float32', shape, d,
            {input: 'img_a_96', model: `cut:${CUT}`, layer: PROBES[i]});
    });

    const bin = fs.readFileSync(path.join(modelDir, json.weightsManifest[0].paths[0]));
    const doc = {
        generator: 'tools/ref/tfjs_reference.js',
        reference: `@tensorflow/tfjs ${tf.version.tfjs}, backend ${tf.getBackend()}, float32`,
        model: 'nsfwjs@4.4.0 dist/models/mobilenet_v2 via tools/fetch_mobilenet.sh',
        weights_sha256: require('crypto').createHash('sha256').update(bin).digest('hex'),
        preprocess: 'x = float32(uint8 pixel) / 255, NHWC, batch of 1',
        tensors: index,
        weight_values: weightProbes(full),
    };
    // One line per tensor: number lists are written without line breaks.
    const text = JSON.stringify(doc, null, 1).replace(/\[[-+\d.e,\s]*\]/g,
        (m) => m.replace(/\s+/g, ''));
    fs.writeFileSync(path.join(outDir, 'index.json'), text + '\n');
    console.log(`tfjs_reference: wrote ${index.length} tensors to ${outDir}`);
}

main().catch((e) => die(e.stack || e.message));
