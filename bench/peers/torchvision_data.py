"""Peer of midge_bench_data: the same data path written the usual PyTorch way.

PIL decode -> resize longer side to SIZE -> pad to a square with the mean
colour -> RandomAffine(rotation 20 deg, shift 0.1, zoom 0.1, shear 5 deg)
-> random horizontal and vertical flips -> ColorJitter(brightness 0.1,
contrast 0.1) -> ToTensor -> Normalize, batched by a DataLoader with W worker
processes. Same files, batch size and augmentation strengths as
configs/paper.ini. Prints one JSON line like midge_bench_data.

With --draft the JPEG is decoded at reduced resolution by PIL's draft mode
(libjpeg DCT scaling, as midge does): the fairest peer.

Run with Debian's Python (/usr/bin/python3: python3-torch, python3-torchvision).
"""
import torch
import torchvision.transforms as T
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from data_peer import arguments, list_images, time_epochs

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
FILL = tuple(int(round(m * 255)) for m in MEAN)


class PadToSquare:
    def __call__(self, img):
        w, h = img.size
        side = max(w, h)
        canvas = Image.new("RGB", (side, side), FILL)
        canvas.paste(img, ((side - w) // 2, (side - h) // 2))
        return canvas


class Folder(Dataset):
    def __init__(self, root, transform, draft_size=0):
        self.draft_size = draft_size
        self.items = list(zip(*list_images(root)))
        self.transform = transform

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        path, label = self.items[i]
        with Image.open(path) as img:
            if self.draft_size:
                img.draft("RGB", (self.draft_size, self.draft_size))
            return self.transform(img.convert("RGB")), label


def main():
    a = arguments(lambda p: p.add_argument("--draft", action="store_true",
                                           help="reduced-resolution JPEG decode"))
    torch.set_num_threads(1)
    transform = T.Compose([
        T.Resize(a.size - 1, max_size=a.size),  # longer side -> size
        PadToSquare(),
        T.Resize((a.size, a.size)),
        T.RandomAffine(degrees=20, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=5, fill=FILL),
        T.RandomHorizontalFlip(),
        T.RandomVerticalFlip(),
        T.ColorJitter(brightness=0.1, contrast=0.1),
        T.ToTensor(),
        T.Normalize(MEAN, STD),
    ])
    dataset = Folder(a.data, transform, a.size if a.draft else 0)
    loader = DataLoader(dataset, batch_size=a.batch, shuffle=True,
                        num_workers=a.workers, persistent_workers=True, prefetch_factor=4)
    time_epochs(a, loader, "torchvision+draft" if a.draft else "torchvision")


if __name__ == "__main__":
    main()
