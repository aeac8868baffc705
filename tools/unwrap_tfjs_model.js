#!/usr/bin/env node
// Unwraps a TF.js layers model that nsfwjs ships as JavaScript modules
// into the plain TF.js files: model.json + one .bin per weight shard.
//
// usage: node unwrap_tfjs_model.js SRC_DIR DEST_DIR
//
// SRC_DIR holds model.min.js and <path>.min.js for every path named in
// the model's weightsManifest. Each is a minified UMD module:
//   model.min.js           module.exports = {modelTopology, weightsManifest}
//   group1-shard1of1.min.js module.exports = "<base64 of the shard bytes>"
// The modules are evaluated in an empty vm context (no require, no fs), so
// only their own code runs and it can reach nothing but `module`.
// DEST_DIR gets model.json (manifest paths renamed to <path>.bin) and the
// decoded shards. Exits non-zero with a message on any inconsistency.
'use strict';

const fs = require('fs');
const path = require('path');
const vm = require('vm');

const DTYPE_BYTES = {float32: 4, int32: 4, float16: 2, uint16: 2, uint8: 1, bool: 1};

function die(msg) {
    process.stderr.write(`unwrap_tfjs_model: error: ${msg}\n`);
    process.exit(1);
}

// Runs one UMD module in a fresh context and returns its module.exports.
function loadModule(file) {
    let code;
    try {
        code = fs.readFileSync(file, 'utf8');
    } catch (e) {
        die(`cannot read ${file}: ${e.message}`);
    }
    const sandbox = {module: {exports: {}}};
    sandbox.exports = sandbox.module.exports;
    try {
        vm.runInNewContext(code, sandbox, {filename: file, timeout: 60000});
    } catch (e) {
        die(`evaluating ${file} failed: ${e.message}`);
    }
    return sandbox.module.exports;
}

function decodeShard(file) {
    let s = loadModule(file);
    if (s && typeof s === 'object' && typeof s.default === 'string')
        s = s.default;
    if (typeof s !== 'string')
        die(`${file} does not export a base64 string (got ${typeof s})`);
    const bytes = Buffer.from(s, 'base64');
    // Buffer.from skips bad characters silently; re-encoding catches them.
    if (bytes.toString('base64') !== s.replace(/\s+/g, ''))
        die(`${file} is not clean base64`);
    return bytes;
}

// Bytes the manifest says a group's shards hold, summed over its weights.
function groupBytes(group) {
    let total = 0;
    for (const w of group.weights) {
        const q = w.quantization;
        const dtype = q ? q.dtype : w.dtype;
        if (!(dtype in DTYPE_BYTES))
            die(`weight ${w.name}: unknown dtype ${dtype}`);
        const n = w.shape.reduce((a, b) => a * b, 1);
        total += n * DTYPE_BYTES[dtype];
    }
    return total;
}

function main() {
    const [src, dest] = process.argv.slice(2);
    if (!src || !dest)
        die('usage: node unwrap_tfjs_model.js SRC_DIR DEST_DIR');

    const model = loadModule(path.join(src, 'model.min.js'));
    if (!model || typeof model !== 'object' || !model.modelTopology ||
        !Array.isArray(model.weightsManifest))
        die('model.min.js does not export {modelTopology, weightsManifest}');

    fs.mkdirSync(dest, {recursive: true});
    for (const group of model.weightsManifest) {
        let got = 0;
        group.paths = group.paths.map((p) => {
            if (p !== path.basename(p))
                die(`manifest path ${p} is not a plain file name`);
            const bytes = decodeShard(path.join(src, `${p}.min.js`));
            fs.writeFileSync(path.join(dest, `${p}.bin`), bytes);
            got += bytes.length;
            return `${p}.bin`;
        });
        const want = groupBytes(group);
        if (got !== want)
            die(`shards ${group.paths} hold ${got} bytes, manifest says ${want}`);
    }

    model.format = model.format || 'layers-model';
    model.convertedBy = 'clfit tools/unwrap_tfjs_model.js (from nsfwjs model.min.js)';
    fs.writeFileSync(path.join(dest, 'model.json'), JSON.stringify(model));
}

main();
