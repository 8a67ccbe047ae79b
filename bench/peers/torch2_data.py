"""Peer of midge_bench_data as a current PyTorch 2.x user writes it: the data
path of torch2_train.py (torchvision.io.decode_image and transforms.v2 on
uint8 tensors: pad to a square, resize, RandomAffine, both flips,
ColorJitter, normalize) in a DataLoader with W worker processes, over every
image of a taxon-per-folder tree. Prints one JSON line like
midge_bench_data.

Run with the PyTorch 2.x venv of bench/peers.sh (bench/data.sh does).
"""
import torch
import torchvision

from data_peer import arguments, list_images, time_epochs
from torch2_train import Manifest, transforms


def main():
    a = arguments()
    torch.set_num_threads(1)
    train_tf, _ = transforms(a.size)
    loader = torch.utils.data.DataLoader(
        Manifest(list(zip(*list_images(a.data))), train_tf), batch_size=a.batch, shuffle=True,
        num_workers=a.workers, persistent_workers=True, prefetch_factor=4)
    time_epochs(a, loader, "torchvision-v2", version=torchvision.__version__)


if __name__ == "__main__":
    main()
