// Loads an ONNX model exported by keras-onnx-bridge and the sample inputs
// (sample.json: {"inputs": {name: {"dims": [...], "type": "float32", "data": [...]}}}),
// runs it with ONNX Runtime Web (WebAssembly, one thread) and shows, per
// output, each row's predicted class and its values.
'use strict';

const ARRAYS = {float32: Float32Array, int32: Int32Array, int64: BigInt64Array, uint8: Uint8Array};

function setStatus(text, isError) {
  const el = document.getElementById('status');
  el.textContent = text;
  el.className = isError ? 'error' : '';
}

function table(name, tensor) {
  const [rows, ...rest] = tensor.dims.length ? tensor.dims : [1];
  const width = rest.reduce((a, b) => a * b, 1);
  const data = Array.from(tensor.data, Number);
  let html = `<h2>${name} ${JSON.stringify(tensor.dims)}</h2><table><tr><th>row</th><th>argmax</th>`;
  for (let j = 0; j < Math.min(width, 10); j++) html += `<th>${j}</th>`;
  html += '</tr>';
  for (let i = 0; i < rows; i++) {
    const row = data.slice(i * width, (i + 1) * width);
    const best = row.indexOf(Math.max(...row));
    html += `<tr><td>${i}</td><td>${best}</td>` +
      row.slice(0, 10).map((v) => `<td>${v.toFixed(4)}</td>`).join('') + '</tr>';
  }
  return html + '</table>';
}

async function main() {
  const params = new URLSearchParams(location.search);
  const modelUrl = params.get('model') || 'model.onnx';
  const sampleUrl = params.get('sample') || 'sample.json';
  const report = params.get('report');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = new URL('node_modules/onnxruntime-web/dist/', location.href).href;
  const result = {ortVersion: ort.env.versions && ort.env.versions.web, outputs: {}};
  try {
    const [model, sample] = await Promise.all([
      fetch(modelUrl).then((r) => { if (!r.ok) throw new Error(`${modelUrl}: HTTP ${r.status}`); return r.arrayBuffer(); }),
      fetch(sampleUrl).then((r) => { if (!r.ok) throw new Error(`${sampleUrl}: HTTP ${r.status}`); return r.json(); }),
    ]);
    const session = await ort.InferenceSession.create(model, {executionProviders: ['wasm']});
    const feeds = {};
    for (const [name, spec] of Object.entries(sample.inputs)) {
      const Arr = ARRAYS[spec.type || 'float32'];
      const data = spec.type === 'int64' ? Arr.from(spec.data, BigInt) : Arr.from(spec.data);
      feeds[name] = new ort.Tensor(spec.type || 'float32', data, spec.dims);
    }
    const outputs = await session.run(feeds);
    let html = '';
    for (const name of session.outputNames) {
      const t = outputs[name];
      html += table(name, t);
      result.outputs[name] = {dims: t.dims, data: Array.from(t.data, Number)};
    }
    document.getElementById('predictions').innerHTML = html;
    setStatus(`${modelUrl}: ${session.outputNames.length} output(s), ONNX Runtime Web ${result.ortVersion}`);
  } catch (e) {
    result.error = String(e && e.message ? e.message : e);
    setStatus(result.error, true);
  }
  if (report) {
    await fetch(report, {method: 'POST', headers: {'Content-Type': 'application/json'},
                         body: JSON.stringify(result)});
  }
}

main();
