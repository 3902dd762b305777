"""Reference side of the hub package's interop tests (hub/interop_test.go).

Runs inside the Debian sid reference root (ci/reference/run.sh) and uses
huggingface_hub's own code to read or write a Hugging Face cache, and to
report how it reads the environment, so that the Go tests compare Loom with
Python itself. It prints one JSON document on stdout.

Modes:
  read CACHE REPO REVISION FILE...
      hf_hub_download(local_files_only=True) of each file: its path and
      sha256, or the error's class; plus try_to_load_from_cache's verdict.
  write CACHE ENDPOINT REPO REVISION FILE...
      hf_hub_download of each file from ENDPOINT (a loopback fake hub), online.
  env CASES_JSON
      for each {"name", "env"}: the cache folder, endpoint, token and offline
      flag huggingface_hub derives from that environment alone.
  repoids IDS_JSON
      whether validate_repo_id accepts each id.
"""

import hashlib
import importlib
import json
import os
import sys

# Every variable huggingface_hub's constants read that the env mode sets.
HF_VARS = [
    "HOME", "HF_HOME", "XDG_CACHE_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_ENDPOINT",
    "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
]


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def mode_read(cache, repo, revision, files):
    os.environ["HF_HUB_OFFLINE"] = "1"
    from huggingface_hub import hf_hub_download, try_to_load_from_cache
    from huggingface_hub.file_download import _CACHED_NO_EXIST

    out = {}
    for name in files:
        entry = {}
        try:
            path = hf_hub_download(repo, name, revision=revision, cache_dir=cache, local_files_only=True)
            entry["path"] = path
            entry["sha256"] = sha256_file(path)
        except Exception as e:  # the class name is what the test compares
            entry["error"] = type(e).__name__
        cached = try_to_load_from_cache(repo, name, cache_dir=cache, revision=revision)
        entry["cached"] = "no_exist" if cached is _CACHED_NO_EXIST else ("file" if isinstance(cached, str) else "none")
        out[name] = entry
    return out


def mode_write(cache, endpoint, repo, revision, files):
    os.environ["HF_HUB_OFFLINE"] = "0"
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    from huggingface_hub import hf_hub_download

    out = {}
    for name in files:
        try:
            path = hf_hub_download(repo, name, revision=revision, cache_dir=cache, endpoint=endpoint)
            out[name] = {"path": path, "sha256": sha256_file(path)}
        except Exception as e:
            out[name] = {"error": type(e).__name__}
    return out


def mode_env(cases):
    import huggingface_hub.constants as constants
    from huggingface_hub import get_token

    out = []
    for case in cases:
        for k in HF_VARS:
            os.environ.pop(k, None)
        os.environ.update(case["env"])
        importlib.reload(constants)
        out.append({
            "name": case["name"],
            "cache": os.path.normpath(constants.HF_HUB_CACHE),
            "endpoint": constants.ENDPOINT,
            "token": get_token() or "",
            "offline": constants.HF_HUB_OFFLINE,
        })
    return out


def mode_repoids(ids):
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    out = {}
    for i in ids:
        try:
            validate_repo_id(i)
            out[i] = True
        except HFValidationError:
            out[i] = False
    return out


def main(argv):
    mode, args = argv[1], argv[2:]
    if mode == "read":
        result = mode_read(args[0], args[1], args[2], args[3:])
    elif mode == "write":
        result = mode_write(args[0], args[1], args[2], args[3], args[4:])
    elif mode == "env":
        result = mode_env(json.loads(args[0]))
    elif mode == "repoids":
        result = mode_repoids(json.loads(args[0]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    import huggingface_hub

    json.dump({"huggingface_hub": huggingface_hub.__version__, "result": result}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv)
