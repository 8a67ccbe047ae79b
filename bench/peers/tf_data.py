"""Peer of midge_bench_data as the paper's system reads data today: the
tf.data pipeline of keras_train.py (tf.io.decode_image, resize with
padding, Keras preprocessing layers for rotation, translation, zoom, flips,
brightness and contrast, normalize, batch, prefetch) over every image of a
taxon-per-folder tree, with W parallel calls on a private pool of W
threads. Prints one JSON line like midge_bench_data.

Run with the Keras/TensorFlow venv of bench/peers.sh (bench/data.sh does).
"""
import argparse
import json
import time

from folder import list_images
from keras_train import pipelines


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--epochs", type=int, default=2)
    a = p.parse_args()
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(a.workers)
    items = list_images(a.data)
    train, _ = pipelines(items, items, a.size, a.batch, seed=1, parallel=a.workers)
    it = iter(train)
    next(it)  # warm-up: the pipeline traced and started
    images = 0
    t0 = time.perf_counter()
    for e in range(a.epochs):
        for x, _ in (it if e == 0 else train):
            images += int(x.shape[0])
    seconds = time.perf_counter() - t0
    print(json.dumps({"impl": "tf.data", "version": tf.__version__, "workers": a.workers,
                      "size": a.size, "augment": "paper", "images": images,
                      "seconds": round(seconds, 3), "images_per_second": round(images / seconds, 1)}))


if __name__ == "__main__":
    main()
