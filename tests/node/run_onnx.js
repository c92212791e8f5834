// Runs ONNX models with ONNX Runtime for Node, for the Python tests.
//   node run_onnx.js JOBS.json
// JOBS.json: [{"model": path, "inputs": [{"name", "dtype", "shape", "file"}],
//              "out": folder}], raw little-endian arrays in the files. Each
// job writes OUT/result.json: {"outputs": [{"name", "dtype", "shape", "file"}]}
// or {"error": message}; a model that fails does not stop the others.
// onnxruntime-node is found through NODE_PATH (npm install --ignore-scripts).
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

const ARRAYS = {
  float32: Float32Array, float64: Float64Array, int32: Int32Array, int64: BigInt64Array,
  int8: Int8Array, uint8: Uint8Array, int16: Int16Array, bool: Uint8Array,
};

function readTensor(spec) {
  const buf = fs.readFileSync(spec.file);
  const Arr = ARRAYS[spec.dtype];
  const data = new Arr(buf.buffer, buf.byteOffset, buf.byteLength / Arr.BYTES_PER_ELEMENT);
  return new ort.Tensor(spec.dtype, data, spec.shape);
}

async function runJob(job) {
  const session = await ort.InferenceSession.create(job.model, {graphOptimizationLevel: 'all'});
  const feeds = {};
  for (const spec of job.inputs) feeds[spec.name] = readTensor(spec);
  const results = await session.run(feeds);
  const outputs = [];
  session.outputNames.forEach((name, i) => {
    const t = results[name];
    const file = path.join(job.out, `output_${i}.bin`);
    const d = t.data;
    fs.writeFileSync(file, Buffer.from(d.buffer, d.byteOffset, d.byteLength));
    outputs.push({name, dtype: t.type, shape: t.dims, file});
  });
  return {outputs};
}

(async () => {
  const jobs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  for (const job of jobs) {
    let result;
    try {
      result = await runJob(job);
    } catch (e) {
      result = {error: String(e && e.message ? e.message : e).split('\n')[0]};
    }
    fs.mkdirSync(job.out, {recursive: true});
    fs.writeFileSync(path.join(job.out, 'result.json'), JSON.stringify(result));
  }
  console.log(`ran ${jobs.length} models with onnxruntime-node ${require('onnxruntime-node/package.json').version}`);
})();
