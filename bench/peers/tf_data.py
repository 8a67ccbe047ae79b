"""Peer of midge_bench_data as the paper's system reads data today: the
tf.data pipeline of keras_train.py (tf.io.decode_image, resize with
padding, Keras preprocessing layers for rotation, translation, zoom, flips,
brightness and contrast, normalize, batch, prefetch) over every image of a
taxon-per-folder tree, with W parallel calls on a private pool of W
threads. Prints one JSON line like midge_bench_data.

Run with the Keras/TensorFlow venv of bench/peers.sh (bench/data.sh does).
"""
from data_peer import arguments, list_images, time_epochs
from keras_train import pipelines


def main():
    a = arguments()
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(a.workers)
    items = list_images(a.data)
    train, _ = pipelines(items, items, a.size, a.batch, seed=1, parallel=a.workers)
    time_epochs(a, train, "tf.data", version=tf.__version__)


if __name__ == "__main__":
    main()
