"""After conversion: shipping the model. float16 (fp16), post-training int8
through ONNX Runtime's quantizer (quantize), Triton model repositories
(triton), and many files in one command (batch). Each module is imported
only when its feature is used: the libraries behind fp16 and int8 are
optional extras."""
