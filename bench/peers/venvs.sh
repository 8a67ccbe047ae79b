# Sourced by bench/peers.sh and bench/data.sh: venvs with the pinned peers
# from PyPI under PEERS_CACHE (default ~/.cache/midge-peers, outside the
# repository; wheels found in its wheels/ folder are used first), made once
# and reused. Sets tf_py (Keras 3 / TensorFlow) and torch_py (PyTorch 2.x +
# torchvision) to the venvs' Pythons, and peer_versions to a line naming
# both.
peers_cache=${PEERS_CACHE:-$HOME/.cache/midge-peers}
TF_PINS=(tensorflow-cpu==2.21.0 keras==3.15.1)
TORCH_PINS=(torch==2.14.1 torchvision==0.29.2)
peer_venv() {  # peer_venv NAME PIN...: the venv's python, made if missing or pinned otherwise
  local dir=$peers_cache/$1
  shift
  # pip freeze into a variable first: grep -q closing the pipe early would
  # fail pip (BrokenPipeError) and, under pipefail, force a reinstall.
  if [ ! -x "$dir/bin/python" ] || ! grep -qxF "$1" <<<"$("$dir/bin/python" -m pip freeze)"; then
    python3 -m venv "$dir"
    "$dir/bin/python" -m pip install -q --find-links "$peers_cache/wheels" "$@" numpy pillow >&2
  fi
  echo "$dir/bin/python"
}
tf_py=$(peer_venv tf "${TF_PINS[@]}")
torch_py=$(peer_venv torch2 "${TORCH_PINS[@]}")
peer_versions="$("$tf_py" -c 'import keras, tensorflow as tf; print(f"Keras {keras.__version__}, TensorFlow {tf.__version__}")'); $("$torch_py" -c 'import torch, torchvision; print(f"PyTorch {torch.__version__}, torchvision {torchvision.__version__}")')"
