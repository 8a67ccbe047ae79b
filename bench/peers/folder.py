"""The images of a taxon-per-folder tree (ROOT/<taxon>/<image>) as the
data benchmarks' peers read them: sorted taxa, sorted files, the image
extensions midge accepts. Plain Python, so every peer's venv can import it."""
import os

EXTENSIONS = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp"}


def list_images(root):
    """(paths, labels): every image under ROOT, labelled by its taxon's index."""
    paths, labels = [], []
    taxa = sorted(t for t in os.listdir(root) if os.path.isdir(os.path.join(root, t)))
    for label, taxon in enumerate(taxa):
        folder = os.path.join(root, taxon)
        for name in sorted(os.listdir(folder)):
            if os.path.splitext(name)[1].lower() in EXTENSIONS:
                paths.append(os.path.join(folder, name))
                labels.append(label)
    return paths, labels
