"""Loads backprop state dicts into the PyTorch modules of packages/nn/README.md and checks their logits.

usage: python3 interop.py <dir>   (the dir holds model.json, state.safetensors and io.safetensors)
Reads safetensors with a small reader of its own (header length, JSON header, raw little-endian data), so only
torch is needed. Prints one JSON line: {"ok": bool, "max_abs_diff": float, "missing": [...], "unexpected": [...]}.
"""
import json
import struct
import sys

import torch
from torch import nn
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I32": torch.int32, "I64": torch.int64, "U8": torch.uint8, "BOOL": torch.bool}


def load_safetensors(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    body = data[8 + n :]
    out = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        start, end = info["data_offsets"]
        t = torch.frombuffer(bytearray(body[start:end]), dtype=DTYPES[info["dtype"]])
        out[key] = t.reshape(info["shape"]).clone()
    return out


class CustomBatchNorm(nn.Module):
    def __init__(self, n_neurons, eps=1e-5):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(n_neurons))
        self.beta = nn.Parameter(torch.zeros(n_neurons))
        self.eps = eps

    def forward(self, x):
        return self.gamma * (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + self.eps) + self.beta


class MLP(nn.Module):
    def __init__(self, n_inputs, n_hidden, n_classes, batch_norm=None, dropout=0.0):
        super().__init__()
        layers, width = [], n_inputs
        for h in n_hidden:
            layers.append(nn.Linear(width, h))
            if batch_norm == "builtin":
                layers.append(nn.BatchNorm1d(h))
            elif batch_norm:
                layers.append(CustomBatchNorm(h))
            layers.append(nn.ReLU())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, n_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x.flatten(1))


class ConvNet(nn.Module):
    def __init__(self, n_channels, n_classes):
        super().__init__()
        conv = lambda i, o: nn.Conv2d(i, o, kernel_size=3, stride=1, padding=1)
        pool = lambda: nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.conv1, self.bn1, self.maxpool1 = conv(n_channels, 64), nn.BatchNorm2d(64), pool()
        self.conv2, self.bn2, self.maxpool2 = conv(64, 128), nn.BatchNorm2d(128), pool()
        self.conv3_a, self.bn3_a = conv(128, 256), nn.BatchNorm2d(256)
        self.conv3_b, self.bn3_b, self.maxpool3 = conv(256, 256), nn.BatchNorm2d(256), pool()
        self.conv4_a, self.bn4_a = conv(256, 512), nn.BatchNorm2d(512)
        self.conv4_b, self.bn4_b, self.maxpool4 = conv(512, 512), nn.BatchNorm2d(512), pool()
        self.conv5_a, self.bn5_a = conv(512, 512), nn.BatchNorm2d(512)
        self.conv5_b, self.bn5_b, self.maxpool5 = conv(512, 512), nn.BatchNorm2d(512), pool()
        self.avgpool = nn.AvgPool2d(kernel_size=1, stride=1, padding=0)
        self.linear = nn.Linear(512, n_classes)

    def forward(self, x):
        block = lambda conv, bn, h: F.relu(bn(conv(h)))
        x = self.maxpool1(block(self.conv1, self.bn1, x))
        x = self.maxpool2(block(self.conv2, self.bn2, x))
        x = self.maxpool3(block(self.conv3_b, self.bn3_b, block(self.conv3_a, self.bn3_a, x)))
        x = self.maxpool4(block(self.conv4_b, self.bn4_b, block(self.conv4_a, self.bn4_a, x)))
        x = self.maxpool5(block(self.conv5_b, self.bn5_b, block(self.conv5_a, self.bn5_a, x)))
        return self.linear(torch.flatten(self.avgpool(x), 1))


def main(folder):
    spec = json.load(open(f"{folder}/model.json"))
    if spec["kind"] == "convnet":
        model = ConvNet(spec["n_channels"], spec["n_classes"])
    else:
        model = MLP(spec["n_inputs"], spec["n_hidden"], spec["n_classes"], spec.get("batch_norm"))
    state = load_safetensors(f"{folder}/state.safetensors")
    # PyTorch keeps num_batches_tracked as int64; backprop stores int32.
    state = {k: (v.long() if k.endswith("num_batches_tracked") else v) for k, v in state.items()}
    result = model.load_state_dict(state, strict=False)
    model.eval()
    io = load_safetensors(f"{folder}/io.safetensors")
    with torch.no_grad():
        logits = model(io["input"])
    diff = float((logits - io["logits"]).abs().max())
    ok = not result.missing_keys and not result.unexpected_keys and diff < 1e-3
    print(json.dumps({"ok": ok, "max_abs_diff": diff, "missing": result.missing_keys, "unexpected": result.unexpected_keys}))


if __name__ == "__main__":
    main(sys.argv[1])
