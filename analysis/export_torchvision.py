#!/usr/bin/env python3
"""Export a torchvision ResNet for midge: a TorchScript archive (.pt) and/or
a midge model file (.h5, the model.h5 schema of docs/results-schema.md), either of which
`model.pretrained` accepts.

Typical use, with ImageNet weights you already have (torchvision's cache or
a state_dict file; midge's machines download nothing):

    /usr/bin/python3 analysis/export_torchvision.py --arch resnet50 \\
        --state-dict ~/.cache/torch/hub/checkpoints/resnet50-0676ba61.pth \\
        --pt resnet50_imagenet.pt --h5 resnet50_imagenet.h5

Without --state-dict the weights are torchvision's random initialization
under --seed (used by midge's tests). --check-input also writes a random
input batch and the model's eval-mode logits for parity tests.
"""
import argparse

import h5py
import numpy as np
import torch
import torchvision

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def build(arch, num_classes, seed, state_dict, randomize_bn):
    torch.manual_seed(seed)
    model = getattr(torchvision.models, arch)(num_classes=num_classes)
    if state_dict:
        sd = torch.load(state_dict, map_location="cpu")
        if num_classes != sd["fc.weight"].shape[0]:
            sd = {k: v for k, v in sd.items() if not k.startswith("fc.")}
        model.load_state_dict(sd, strict=False)
    if randomize_bn:
        # Non-trivial BatchNorm statistics, so a parity test checks them too.
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.num_batches_tracked.fill_(7)
    return model.eval()


def write_h5(model, arch, classes, image_size, path):
    with h5py.File(path, "w") as f:
        f.attrs["schema_version"] = 1
        f.attrs["format"] = "midge-model"
        f.attrs["arch"] = arch
        f.attrs["classes"] = np.array(classes, dtype=h5py.string_dtype())
        f.attrs["image_size"] = image_size
        f.attrs["mean"] = np.array(MEAN)
        f.attrs["std"] = np.array(STD)
        f.attrs["dropout"] = 0.0
        for name, t in model.state_dict().items():
            f.create_dataset("weights/" + name, data=t.detach().cpu().numpy())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", default="resnet50", choices=["resnet18", "resnet34", "resnet50", "resnet101"])
    p.add_argument("--classes", type=int, default=1000, help="size of fc (1000 for ImageNet)")
    p.add_argument("--state-dict", help="torchvision state_dict (.pth) to export")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--image-size", type=int, default=224)
    p.add_argument("--pt", help="write TorchScript here")
    p.add_argument("--h5", help="write a midge model.h5 here")
    p.add_argument("--randomize-bn", action="store_true", help="random BatchNorm statistics (tests)")
    p.add_argument("--check-input", help="write input batch and logits (HDF5) here")
    p.add_argument("--check-size", type=int, default=64)
    a = p.parse_args()
    model = build(a.arch, a.classes, a.seed, a.state_dict, a.randomize_bn)
    if a.pt:
        torch.jit.save(torch.jit.script(model), a.pt)
    if a.h5:
        write_h5(model, a.arch, [f"class_{i:04d}" for i in range(a.classes)], a.image_size, a.h5)
    if a.check_input:
        g = torch.Generator().manual_seed(a.seed + 1)
        x = torch.randn(3, 3, a.check_size, a.check_size, generator=g)
        with torch.no_grad():
            logits = model(x)
        with h5py.File(a.check_input, "w") as f:
            f.create_dataset("input", data=x.numpy())
            f.create_dataset("logits", data=logits.numpy())
    print(f"exported {a.arch} ({sum(p.numel() for p in model.parameters())} parameters)")


if __name__ == "__main__":
    main()
