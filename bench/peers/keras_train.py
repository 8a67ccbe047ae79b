"""Peer of `midge train` on CPU: configs/paper.ini's recipe as the paper's
system (Keras on TensorFlow) would run it today, for bench/peers.sh.

Model: keras.applications.ResNet50 (no weights, pooling avg), dropout on the
2048 pooled features, softmax head (float32 output under mixed precision).
Stage 1: the base frozen (its BatchNorm in inference mode, as midge's frozen
backbone), Adam; stage 2: all layers, SGD with momentum at a smaller rate
(--opt2, --lr2; Keras applies the weight decay decoupled, PyTorch and midge
add it to the gradient).
Data: the train/val split of a `midge split --out` manifest (path,taxon,
split), so midge and this script see identical images; a tf.data pipeline
decodes (tf.io.decode_image), pads to a square, resizes and augments with
Keras preprocessing layers in parallel (num_parallel_calls=AUTOTUNE) and
prefetches. Augmentation as close to midge's as Keras allows: rotation,
translation, zoom, both flips, brightness, contrast; no shear and no elastic
deformation (midge's paper.ini has shear 5 degrees).

Prints one JSON line per epoch: training images/s of the epoch's training
loop (data loading included, validation excluded), training loss and
accuracy, validation accuracy;
then a summary with the last epoch's figures, peak RSS and versions.
"""
import argparse
import csv
import json
import os
import resource
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pipelines(train, val, size, batch, seed, parallel=None, augmented=True):
    """tf.data pipelines for (paths, labels) pairs: the training one decodes,
    pads to a square, resizes, augments, normalizes, shuffles and batches in
    parallel (parallel calls: AUTOTUNE, or that many; augmented=False: the
    augmentation layers in inference mode, i.e. off), the validation one
    without augmentation and shuffling."""
    import tensorflow as tf
    import keras

    mean = tf.constant([0.485, 0.456, 0.406]) * 255.0
    std = tf.constant([0.229, 0.224, 0.225]) * 255.0

    def load(path, label):
        img = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        img = tf.image.resize_with_pad(tf.cast(img, tf.float32), size, size)
        return img, label

    augment = keras.Sequential([
        keras.layers.RandomRotation(20 / 360, fill_mode="constant"),
        keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant"),
        keras.layers.RandomZoom(0.1, fill_mode="constant"),
        keras.layers.RandomFlip("horizontal_and_vertical"),
        keras.layers.RandomBrightness(0.1, value_range=(0, 255)),
        keras.layers.RandomContrast(0.1),
    ])

    def normalize(img, label):
        # Under mixed_bfloat16 the augmentation layers compute in bf16.
        return (tf.cast(img, tf.float32) - mean) / std, label

    calls = parallel or tf.data.AUTOTUNE
    train_set = (tf.data.Dataset.from_tensor_slices(train)
                 .shuffle(len(train[0]), seed=seed, reshuffle_each_iteration=True)
                 .map(load, num_parallel_calls=calls)
                 .map(lambda x, y: (augment(x, training=augmented), y), num_parallel_calls=calls)
                 .map(normalize, num_parallel_calls=calls)
                 .batch(batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE))
    val_set = (tf.data.Dataset.from_tensor_slices(val)
               .map(load, num_parallel_calls=calls).map(normalize, num_parallel_calls=calls)
               .batch(batch).prefetch(tf.data.AUTOTUNE))
    if parallel:
        # Only that many threads for the pipeline's work, like W loader workers.
        options = tf.data.Options()
        options.threading.private_threadpool_size = parallel
        train_set, val_set = train_set.with_options(options), val_set.with_options(options)
    return train_set, val_set


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--manifest", required=True, help="midge split --out CSV (path,taxon,split)")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--stage1-epochs", type=int, default=1)
    p.add_argument("--stage2-epochs", type=int, default=2)
    p.add_argument("--steps", type=int, default=0, help="training steps per epoch (0: the whole set)")
    p.add_argument("--opt2", default="sgd", choices=["sgd", "adam"], help="stage 2 optimizer (paper.ini: sgd)")
    p.add_argument("--lr2", type=float, default=1e-4, help="stage 2 rate (paper.ini: 1e-4)")
    p.add_argument("--augment", default="paper", choices=["paper", "none"])
    p.add_argument("--amp", default="off", choices=["off", "bf16"])
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    import tensorflow as tf
    import keras

    tf.config.threading.set_intra_op_parallelism_threads(a.threads)
    tf.config.threading.set_inter_op_parallelism_threads(a.threads)
    keras.utils.set_random_seed(a.seed)
    if a.amp == "bf16":
        keras.mixed_precision.set_global_policy("mixed_bfloat16")

    rows = list(csv.DictReader(open(a.manifest)))
    taxa = sorted({r["taxon"] for r in rows})
    index = {t: i for i, t in enumerate(taxa)}
    base_dir = os.path.dirname(os.path.abspath(a.manifest))

    def part(name):
        sel = [r for r in rows if r["split"] == name]
        paths = [r["path"] if os.path.isabs(r["path"]) else os.path.join(base_dir, r["path"]) for r in sel]
        return paths, [index[r["taxon"]] for r in sel]

    train_paths, train_labels = part("train")
    val_paths, val_labels = part("val")
    s = a.size
    train, val = pipelines((train_paths, train_labels), (val_paths, val_labels), s, a.batch, a.seed,
                           augmented=a.augment == "paper")
    if a.steps > 0:
        train = train.take(a.steps)

    base = keras.applications.ResNet50(include_top=False, weights=None, input_shape=(s, s, 3), pooling="avg")
    inputs = keras.Input((s, s, 3))
    x = base(inputs)
    x = keras.layers.Dropout(0.5)(x)
    outputs = keras.layers.Dense(len(taxa), activation="softmax", dtype="float32")(x)
    model = keras.Model(inputs, outputs)

    epochs = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0, self.steps = time.perf_counter(), 0

        def on_train_batch_end(self, batch, logs=None):
            self.steps += 1
            self.t1 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds = self.t1 - self.t0
            row = {"stage": self.stage, "epoch": epoch + 1, "train_seconds": round(seconds, 3),
                   "images_per_second": round(self.steps * a.batch / seconds, 3),
                   "train_loss": round(float(logs.get("loss", -1)), 4),
                   "train_acc": round(float(logs.get("accuracy", -1)), 4),
                   "val_acc": round(float(logs.get("val_accuracy", -1)), 4)}
            epochs.append(row)
            print(json.dumps(row), flush=True)

    timer = Timer()
    for stage, n, opt in ((1, a.stage1_epochs, keras.optimizers.Adam(1e-3)),
                          (2, a.stage2_epochs,
                           keras.optimizers.SGD(a.lr2, momentum=0.9, weight_decay=1e-4) if a.opt2 == "sgd" else
                           keras.optimizers.Adam(a.lr2, weight_decay=1e-4))):
        if n == 0:
            continue
        base.trainable = stage == 2
        model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        timer.stage = stage
        model.fit(train, validation_data=val, epochs=n, callbacks=[timer], verbose=0)
    last = epochs[-1]
    print(json.dumps({"peer": "keras", "images_per_second": last["images_per_second"],
                      "val_acc": last["val_acc"],
                      "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                      "versions": f"Keras {keras.__version__}, TensorFlow {tf.__version__}",
                      "amp": a.amp, "size": s, "batch": a.batch}), flush=True)


if __name__ == "__main__":
    main()
