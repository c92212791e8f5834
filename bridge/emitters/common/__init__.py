"""Helpers the emitter families share; nothing here registers a layer.

  activation_functions  Keras's activations by name (the `activation` option)
  calls                 a layer call's arguments with Tensors bound in
  einsum                einsum with a constant kernel as MatMul + Reshape
  quantized             Keras 3 quantized Dense / EinsumDense / Embedding (int8, int4, float8)
  resample              tf.image.resize: TensorFlow's resampling weights, crops
  rnn                   recurrent cells in canonical form, time-major plumbing
  scan                  the explicit recurrence as an ONNX Scan
  spatial               data_format and Keras's padding arithmetic
"""
