"""Ways out of digitlab: a trained network as ONNX, safetensors or a PyTorch model.

    from digitlab.export import to_onnx, to_safetensors, to_torch
    to_onnx(net, "model.onnx")            # ONNX Runtime, and everything that reads ONNX
    to_safetensors(net, "model.safetensors")  # the weights, read back by digitlab.load
    model = to_torch(net)                 # an nn.Sequential holding the same weights

Every format gets the network's inference pass (dropout off, BatchNorm's running statistics),
from the inputs `network.predict` takes to the class probabilities. `digitlab export` does the
same from the command line. onnx, safetensors and torch are optional: `pip install
'digitlab[export]'` (torch on its own).
"""

from digitlab.export.onnx_format import to_onnx
from digitlab.export.torch_format import to_torch, torch_code
from digitlab.modelfile.safetensors import read_safetensors, to_safetensors

__all__ = ["read_safetensors", "to_onnx", "to_safetensors", "to_torch", "torch_code"]
