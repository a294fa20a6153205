"""Benchmark of the course (``make bench``): prints a table, writes JSON and a plot.

Every measurement runs in its own subprocess (a fresh Keras with the chosen
``KERAS_BACKEND``) and reports the median of several repetitions after a warm-up.

    python tools/bench/run_bench.py                 # everything, default repetitions
    python tools/bench/run_bench.py --quick         # tiny repetition counts (to debug the script)
    python tools/bench/run_bench.py --only train    # one section: train, helpers, pipeline, notebooks

Outputs (``--out``, default ``docs/``): ``benchmarks.json`` and ``benchmarks.png``.
See ``docs/benchmarks.md`` for what is measured and the results.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
NOTEBOOK_02 = REPO / "notebooks" / "02_vae_fashion_mnist.ipynb"
BATCH = 100  # the lecture's batch size for Fashion-MNIST
FACE_BATCH = 128  # the lecture's batch size for CelebA
BACKENDS = ("tensorflow", "jax", "torch")


# --- Workers (run in a subprocess with KERAS_BACKEND set) ------------------------------


def _median_epoch_ms(fit, steps, repeats):
    """Runs ``fit(epochs, callback)`` for 1 + repeats epochs; median epoch time per step."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.start)

    timer = EpochTimer()
    fit(1 + repeats, timer)
    per_step = [t / steps * 1000 for t in timer.times[1:]]  # epoch 1 = warm-up (compilation)
    return statistics.median(per_step), per_step


def _notebook_vae_class():
    """Builds notebook 02's Sampling, encoder, decoder and VAE by executing its own cells.

    The cells that define the model carry the tag ``vae-model`` (in order: sizes, Sampling,
    encoder, decoder, VAE).
    """
    import nbformat

    notebook = nbformat.read(NOTEBOOK_02, as_version=4)
    namespace = {}
    exec(
        "import keras, numpy as np, tensorflow as tf\n"
        "from keras import layers, metrics, models, ops, optimizers\n"
        "from course_utils.config import fast_mode\n",
        namespace,
    )
    used = [
        i
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and "vae-model" in cell.metadata.get("tags", [])
    ]
    if not used:
        raise RuntimeError("notebook 02 has no code cells tagged 'vae-model'")
    for index in used:
        with contextlib.redirect_stdout(io.StringIO()):  # .summary() tables
            exec(notebook.cells[index].source, namespace)
    return namespace, used


def _build_fashion_vae(variant):
    """The Fashion-MNIST VAE as the lecture, notebook 02 or course_utils.vae writes it."""
    if variant == "lecture":
        sys.path.insert(0, str(HERE))
        import lecture_vae

        return lecture_vae.build(), {}
    if variant == "notebook":
        namespace, cells = _notebook_vae_class()
        vae = namespace["VAE"](namespace["encoder"], namespace["decoder"], beta=namespace["BETA"])
        return vae, {"notebook_cells": cells}
    from course_utils.vae import VAE, build_fashion_decoder, build_fashion_encoder

    return VAE(build_fashion_encoder(), build_fashion_decoder(), beta=500.0), {}


def worker_train(variants, steps, repeats):
    """Training throughput of the Fashion-MNIST VAE (32x32x1, batch 100, Adam 5e-4).

    All ``variants`` live in this one process and take turns: each round times one
    ``fit`` of ``steps`` steps for every variant, so all see the same machine load
    (the machine is shared). The first round is a warm-up (tracing, compilation).
    """
    import keras
    import numpy as np

    keras.utils.set_random_seed(0)
    # Random images: the step costs the same for any pixel values (dense convolutions).
    x = np.random.default_rng(0).random((steps * BATCH, 32, 32, 1), dtype="float32")
    models, results = {}, {}
    for variant in variants:
        vae, info = _build_fashion_vae(variant)
        vae.compile(optimizer=keras.optimizers.Adam(learning_rate=0.0005))
        models[variant] = vae
        flops = train_flops_per_image(vae.encoder) + train_flops_per_image(vae.decoder)
        results[variant] = dict(
            info,
            train_flops_per_image=flops,
            params=int(vae.encoder.count_params() + vae.decoder.count_params()),
            all_ms_per_step=[],
        )
    for round_ in range(1 + repeats):
        for variant, vae in models.items():
            start = time.perf_counter()
            vae.fit(x, epochs=1, batch_size=BATCH, shuffle=True, verbose=0)
            elapsed = time.perf_counter() - start
            if round_ > 0:
                results[variant]["all_ms_per_step"].append(elapsed / steps * 1000)
    for row in results.values():
        row["ms_per_step"] = statistics.median(row["all_ms_per_step"])
        row["best_ms_per_step"] = min(row["all_ms_per_step"])
        row["images_per_s"] = BATCH / row["ms_per_step"] * 1000
    return results


def forward_macs(model):
    """Multiply-accumulates of one image's forward pass, from the layers' shapes.

    Conv2D: H_out*W_out*C_out*kh*kw*C_in; Conv2DTranspose: H_in*W_in*C_in*kh*kw*C_out
    (every input pixel scatters the kernel); Dense: inputs*units. Biases, activations,
    BatchNorm, the loss and the optimizer update are left out (all well under 1 %).
    """
    from keras import layers

    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.Conv2DTranspose):
            _, h, w, c_in = layer.input.shape
            kh, kw = layer.kernel_size
            total += h * w * c_in * kh * kw * layer.filters
        elif isinstance(layer, layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw = layer.kernel_size
            total += h * w * c_out * kh * kw * layer.input.shape[-1]
        elif isinstance(layer, layers.Dense):
            total += layer.input.shape[-1] * layer.units
    return total


def train_flops_per_image(model):
    """Training step ~ 3 x forward (forward + gradients w.r.t. inputs and weights); 2 FLOP/MAC."""
    return 3 * 2 * forward_macs(model)


def _timed(function, repeats):
    function()  # warm-up: traces and compiles the predict function
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def worker_helpers(repeats):
    """Batched latent helpers against a loop that calls ``predict`` once per image."""
    import keras
    import numpy as np

    from course_utils import vae as course_vae
    from course_utils.vae_utils import add_vector_to_images, morph_faces

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    results = {}

    # Faces: the lecture's face VAE (64x64x3, z = 200); untrained weights cost the same.
    faces = course_vae.VAE(
        course_vae.build_face_encoder(),
        course_vae.build_face_decoder(),
        beta=2000.0,
        reconstruction="mse",
    )
    images = rng.random((10, 64, 64, 3), dtype="float32")
    vector = rng.normal(size=200).astype("float32")
    alphas = (-4, -3, -2, -1, 0, 1, 2, 3, 4)
    n_faces = 5

    def add_vector_loop():
        rows = []
        for image in images[:n_faces]:
            z = faces.encoder.predict(image[None], verbose=0)[0]
            rows.append([faces.decoder.predict(z + a * vector, verbose=0) for a in alphas])
        return rows

    def morph_loop(n_steps=10):
        z_a = faces.encoder.predict(images[0:1], verbose=0)[0]
        z_b = faces.encoder.predict(images[1:2], verbose=0)[0]
        return [
            faces.decoder.predict(z_a * (1 - t) + z_b * t, verbose=0)
            for t in np.linspace(0, 1, n_steps)
        ]

    # Fashion: the notebook's 15 x 15 grid of the 2-D latent space.
    fashion_decoder = course_vae.build_fashion_decoder()
    grid = rng.normal(size=(225, 2)).astype("float32")

    cases = {
        "add_vector_to_images": (
            lambda: add_vector_to_images(
                images, faces, vector, n=n_faces, alphas=alphas, show=False
            ),
            add_vector_loop,
            n_faces * (1 + len(alphas)),
        ),
        "morph_faces": (lambda: morph_faces(images, faces, n_steps=10, show=False), morph_loop, 12),
        "grid_decode_15x15": (
            lambda: fashion_decoder.predict(grid, batch_size=len(grid), verbose=0),
            lambda: [fashion_decoder.predict(p[None], verbose=0) for p in grid],
            len(grid),
        ),
    }
    for name, (batched, loop, calls) in cases.items():
        t_batched, all_b = _timed(batched, repeats)
        t_loop, all_l = _timed(loop, repeats)
        results[name] = dict(
            batched_s=t_batched,
            loop_s=t_loop,
            speedup=t_loop / t_batched,
            loop_predict_calls=calls,
            all_batched_s=all_b,
            all_loop_s=all_l,
        )
    return results


def worker_pipeline(repeats, train_steps, train_repeats):
    """load_celeba's images/s (JPEG from disk) against the face VAE's training images/s."""
    import keras
    import numpy as np

    from course_utils import vae as course_vae
    from course_utils.celeba import celeba_image_dir, load_celeba
    from course_utils.generated_faces import generate_celeba_sample

    folder = generate_celeba_sample(verbose=False)
    n_files = len(os.listdir(celeba_image_dir(folder)))
    data = load_celeba(data_dir=folder, image_size=64, batch_size=FACE_BATCH, shuffle=True)

    def one_pass():
        count = 0
        for batch in data:
            count += int(batch.shape[0])
        return count

    seen = one_pass()  # warm-up (file listing, first decode)
    epoch_s, all_s = _timed(one_pass, repeats)
    result = dict(
        files=n_files,
        images_per_epoch=seen,
        pipeline_images_per_s=seen / epoch_s,
        all_pipeline_epoch_s=all_s,
    )

    keras.utils.set_random_seed(0)
    vae = course_vae.VAE(
        course_vae.build_face_encoder(),
        course_vae.build_face_decoder(),
        beta=2000.0,
        reconstruction="mse",
    )
    vae.compile(optimizer=keras.optimizers.Adam(learning_rate=0.0005))
    x = np.random.default_rng(0).random((train_steps * FACE_BATCH, 64, 64, 3), dtype="float32")
    ms, all_ms = _median_epoch_ms(
        lambda epochs, timer: vae.fit(
            x, epochs=epochs, batch_size=FACE_BATCH, verbose=0, callbacks=[timer]
        ),
        train_steps,
        train_repeats,
    )
    result.update(
        train_ms_per_step=ms,
        train_images_per_s=FACE_BATCH / ms * 1000,
        all_train_ms_per_step=all_ms,
        train_flops_per_image=train_flops_per_image(vae.encoder)
        + train_flops_per_image(vae.decoder),
    )
    # The same training fed straight from load_celeba: does the model ever wait for data?
    ms_disk, all_disk = _median_epoch_ms(
        lambda epochs, timer: vae.fit(
            data.take(train_steps), epochs=epochs, verbose=0, callbacks=[timer]
        ),
        train_steps,
        train_repeats,
    )
    result.update(train_from_disk_ms_per_step=ms_disk, all_train_from_disk_ms_per_step=all_disk)
    result["pipeline_over_train"] = result["pipeline_images_per_s"] / result["train_images_per_s"]
    return result


WORKERS = {"train": worker_train, "helpers": worker_helpers, "pipeline": worker_pipeline}


# --- Orchestration -----------------------------------------------------------------------


def run_worker(name, backend, **kwargs):
    """Runs one worker in a fresh interpreter with ``KERAS_BACKEND=backend``."""
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    command = [sys.executable, __file__, "--worker", name, "--kwargs", json.dumps(kwargs)]
    start = time.perf_counter()
    proc = subprocess.run(command, env=env, capture_output=True, text=True, cwd=REPO)
    wall = time.perf_counter() - start
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        print(f"  ! {name} ({backend}) failed:\n{proc.stderr[-3000:]}", file=sys.stderr)
        return {"error": proc.stderr[-3000:], "wall_s": wall}
    result = json.loads(lines[-1][len("RESULT ") :])
    result["wall_s"] = wall
    return result


def installed_backends():
    import importlib.util

    return [b for b in BACKENDS if importlib.util.find_spec(b) is not None]


def machine_info():
    """CPU model, cores, memory, clock, SIMD flags, theoretical fp32 peak, versions."""
    info = {"platform": platform.platform(), "python": platform.python_version()}
    fields = {}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        fields = dict(line.split(":", 1) for line in lscpu.splitlines() if ":" in line)
        fields = {k.strip(): v.strip() for k, v in fields.items()}
        info["cpu_model"] = fields.get("Model name")
        info["cpu_family_model"] = f"{fields.get('CPU family')}/{fields.get('Model')}"
        info["cpus"] = int(fields.get("CPU(s)", os.cpu_count()))
        info["threads_per_core"] = int(fields.get("Thread(s) per core", 1))
        info["hypervisor"] = fields.get("Hypervisor vendor")
    except (OSError, ValueError):
        info["cpus"] = os.cpu_count()
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    flags = set()
    mhz = []
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
        if line.startswith("cpu MHz"):
            mhz.append(float(line.split(":", 1)[1]))
    info["clock_ghz"] = round(max(mhz) / 1000, 3) if mhz else None
    info["simd"] = [f for f in ("avx512f", "avx2", "fma") if f in flags]
    # Theoretical fp32 peak = cores x clock x FLOP/cycle; FLOP/cycle = 2 FMA units x lanes x 2.
    lanes = 16 if "avx512f" in flags else 8 if "avx2" in flags else 4
    fma = 2 if "fma" in flags else 1
    physical = info["cpus"] // max(info.get("threads_per_core", 1), 1)
    if info["clock_ghz"]:
        info["flop_per_cycle_nominal"] = 2 * fma * lanes
        info["peak_gflops_nominal"] = physical * info["clock_ghz"] * 2 * fma * lanes
        # AMD Zen 4 (family 25; Zen 3 there has no AVX-512) runs AVX-512 on 256-bit
        # units: the real width is 8 fp32 lanes per FMA unit.
        if (
            "AMD" in (info.get("cpu_model") or "")
            and fields.get("CPU family") == "25"
            and lanes == 16
        ):
            info["flop_per_cycle_zen4"] = 2 * fma * 8
            info["peak_gflops_zen4"] = physical * info["clock_ghz"] * 2 * fma * 8
    try:
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        info["memory_gib"] = round(int(meminfo[0].split()[1]) / 2**20, 1)
    except (OSError, IndexError, ValueError):
        pass
    versions = {}
    for name in ("keras", "tensorflow", "jax", "jaxlib", "torch", "numpy"):
        try:
            from importlib.metadata import version

            versions[name] = version(name)
        except Exception:  # noqa: BLE001 - not installed
            pass
    info["versions"] = versions
    return info


def load_average():
    return os.getloadavg()


def time_notebooks(backend="tensorflow"):
    """Wall time of each notebook under nbval in the CI profile (COURSE_FAST=1, sample)."""
    results = {}
    from course_utils import manifest  # runs the references, not the blank student versions

    env = dict(os.environ, COURSE_FAST="1", COURSE_DATA="sample", KERAS_BACKEND=backend)
    for path in (REPO / p for p in manifest.load(REPO).run_list(backend)):
        command = [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "--nbval-current-env",
            "-p",
            "no:cacheprovider",
            "-q",
            str(path.relative_to(REPO)),
        ]
        start = time.perf_counter()
        proc = subprocess.run(command, env=env, capture_output=True, text=True, cwd=REPO)
        wall = time.perf_counter() - start
        tail = proc.stdout.strip().splitlines()[-1:] or [""]
        results[path.name] = {"wall_s": wall, "passed": proc.returncode == 0, "summary": tail[0]}
        print(f"  {path.name}: {wall:.1f} s ({tail[0]})", flush=True)
    return results


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(14, 9))
    ax = axes[0, 0]
    train = results.get("train", {})
    rows = [
        (k.replace(" / ", "\n"), r["images_per_s"]) for k, r in train.items() if "images_per_s" in r
    ]
    if rows:
        labels, values = zip(*rows)
        ax.barh(labels, values, color="#4C72B0")
        for i, v in enumerate(values):
            ax.text(v, i, f" {v:.0f}", va="center")
        ax.invert_yaxis()
    ax.set_xlabel("images/s (higher is better)")
    ax.set_title("Fashion-MNIST VAE training, batch 100 (median)")

    ax = axes[0, 1]
    helpers = results.get("helpers", {})
    names = [n for n in helpers if isinstance(helpers[n], dict) and "speedup" in helpers[n]]
    if names:
        ax.bar(names, [helpers[n]["speedup"] for n in names], color="#55A868")
        for i, n in enumerate(names):
            ax.text(
                i, helpers[n]["speedup"], f"{helpers[n]['speedup']:.0f}x", ha="center", va="bottom"
            )
        ax.set_yscale("log")
    ax.axhline(10, color="red", ls="--", label="target 10x")
    ax.set_ylabel("per-image predict loop time / batched time")
    ax.set_title("Batched latent helpers vs predict per image")
    ax.legend()

    ax = axes[1, 0]
    pipe = results.get("pipeline", {})
    if "pipeline_images_per_s" in pipe:
        values = [pipe["pipeline_images_per_s"], pipe["train_images_per_s"]]
        ax.bar(
            ["load_celeba\n(JPEG from disk)", "face VAE training\n(batch 128)"],
            values,
            color=["#C44E52", "#8172B2"],
        )
        for i, v in enumerate(values):
            ax.text(i, v, f"{v:.0f}", ha="center", va="bottom")
        ax.set_yscale("log")
        ax.set_title(
            f"Faces: input pipeline / training = {pipe['pipeline_over_train']:.0f}x (target 3x)"
        )
    ax.set_ylabel("images/s")

    ax = axes[1, 1]
    notebooks = results.get("notebooks", {})
    names = [n for n in notebooks if isinstance(notebooks[n], dict)]
    if names:
        values = [notebooks[n]["wall_s"] for n in names]
        ax.barh([n.replace(".ipynb", "") for n in names], values, color="#937860")
        for i, v in enumerate(values):
            ax.text(v, i, f" {v:.0f} s", va="center")
        ax.invert_yaxis()
        total = notebooks.get("total_s", sum(values))
        ax.set_title(f"Notebooks under nbval, CI profile: {total:.0f} s in all (target 300 s)")
    ax.set_xlabel("wall time, s")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--kwargs", default="{}", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="tiny repetition counts")
    parser.add_argument(
        "--only",
        action="append",
        choices=["train", "helpers", "pipeline", "notebooks"],
        help="run only these sections",
    )
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=30, help="training steps per repetition")
    parser.add_argument("--out", default=str(REPO / "docs"))
    args = parser.parse_args(argv)

    if args.worker:
        result = WORKERS[args.worker](**json.loads(args.kwargs))
        print("RESULT " + json.dumps(result))
        return 0

    if args.quick:
        args.repeats, args.steps = 2, 3
    sections = args.only or ["train", "helpers", "pipeline", "notebooks"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "benchmarks.json"
    results = json.loads(json_path.read_text()) if json_path.exists() and args.only else {}
    results["machine"] = machine_info()
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    load_start = load_average()
    print(f"Started {started}, load average {load_start}", flush=True)

    if "train" in sections:
        train = {}
        groups = [("tensorflow", ["lecture", "notebook", "course"])]
        groups += [(b, ["course"]) for b in installed_backends() if b != "tensorflow"]
        for backend, variants in groups:
            # JAX is ~10x slower here: fewer steps keep its run short, the median is as fair.
            steps = max(1, args.steps // 3) if backend == "jax" else args.steps
            repeats = max(2, args.repeats // 2) if backend == "jax" else args.repeats
            print(f"train {backend}: {', '.join(variants)} ...", flush=True)
            result = run_worker("train", backend, variants=variants, steps=steps, repeats=repeats)
            for variant in variants:
                row = result.get(variant, {"error": result.get("error")})
                row.update(steps=steps, repeats=repeats)
                train[f"{variant} / {backend}"] = row
        lecture = train.get("lecture / tensorflow", {}).get("all_ms_per_step")
        for key, row in train.items():
            # Paired ratio: the same round's lecture time over this variant's time.
            if lecture and key.endswith("/ tensorflow") and "all_ms_per_step" in row:
                pairs = [a / b for a, b in zip(lecture, row["all_ms_per_step"])]
                row["paired_ratio_vs_lecture"] = statistics.median(pairs)
        base = train.get("lecture / tensorflow", {}).get("images_per_s")
        machine = results["machine"]
        for row in train.values():
            if "images_per_s" in row:
                row["ratio_vs_lecture"] = row["images_per_s"] / base if base else None
                gflops = row["images_per_s"] * row["train_flops_per_image"] / 1e9
                row["achieved_gflops"] = gflops
                for peak in ("peak_gflops_nominal", "peak_gflops_zen4"):
                    if machine.get(peak):
                        row[f"fraction_of_{peak}"] = gflops / machine[peak]
        results["train"] = train

    if "helpers" in sections:
        print("helpers (tensorflow) ...", flush=True)
        results["helpers"] = run_worker("helpers", "tensorflow", repeats=args.repeats)

    if "pipeline" in sections:
        print("pipeline (tensorflow) ...", flush=True)
        results["pipeline"] = run_worker(
            "pipeline",
            "tensorflow",
            repeats=args.repeats,
            # the face VAE is ~5x the Fashion model's FLOPs: fewer steps and repetitions
            train_steps=max(2, args.steps // 6),
            train_repeats=max(2, args.repeats // 2),
        )

    if "notebooks" in sections:
        print("notebooks (CI profile, tensorflow) ...", flush=True)
        notebooks = time_notebooks()
        notebooks["total_s"] = sum(v["wall_s"] for v in notebooks.values())
        results["notebooks"] = notebooks

    results["run"] = {
        "started": started,
        "finished": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "load_average_start": load_start,
        "load_average_end": load_average(),
        "repeats": args.repeats,
        "steps": args.steps,
        "quick": args.quick,
    }
    json_path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    plot(results, out / "benchmarks.png")
    print_table(results)
    print(f"Wrote {json_path} and {out / 'benchmarks.png'}")
    return 0


def print_table(results):
    machine = results["machine"]
    print(
        f"\nMachine: {machine.get('cpu_model')} x {machine.get('cpus')} CPUs, "
        f"{machine.get('memory_gib')} GiB, {machine.get('versions')}"
    )
    if "train" in results:
        print(
            "\n| run | ms/step | images/s | vs lecture (medians) | vs lecture (paired) "
            "| GFLOP/s | % of peak (nominal / Zen 4) |"
        )
        print("|---|---|---|---|---|---|---|")
        for key, row in results["train"].items():
            if "images_per_s" not in row:
                print(f"| {key} | failed | | | | | |")
                continue
            paired = row.get("paired_ratio_vs_lecture")
            nominal = row.get("fraction_of_peak_gflops_nominal", float("nan"))
            zen4 = row.get("fraction_of_peak_gflops_zen4", float("nan"))
            print(
                f"| {key} | {row['ms_per_step']:.1f} | {row['images_per_s']:.0f} | "
                f"{row['ratio_vs_lecture']:.2f} | {'' if paired is None else f'{paired:.2f}'} | "
                f"{row['achieved_gflops']:.1f} | {100 * nominal:.0f} / {100 * zen4:.0f} |"
            )
    if "helpers" in results:
        print("\n| helper | batched s | per-image loop s | speed-up |")
        print("|---|---|---|---|")
        for key, row in results["helpers"].items():
            if isinstance(row, dict) and "speedup" in row:
                print(
                    f"| {key} | {row['batched_s']:.3f} | {row['loop_s']:.2f} | "
                    f"{row['speedup']:.0f}x |"
                )
    pipe = results.get("pipeline", {})
    if "pipeline_images_per_s" in pipe:
        print(
            f"\nload_celeba: {pipe['pipeline_images_per_s']:.0f} images/s; face VAE training "
            f"{pipe['train_images_per_s']:.0f} images/s ({pipe['train_ms_per_step']:.0f} "
            f"ms/step in memory, {pipe['train_from_disk_ms_per_step']:.0f} ms/step from "
            f"disk); ratio {pipe['pipeline_over_train']:.1f}x"
        )
    if "notebooks" in results:
        print("\n| notebook (CI profile) | wall s | passed |")
        print("|---|---|---|")
        for key, row in results["notebooks"].items():
            if isinstance(row, dict):
                print(f"| {key} | {row['wall_s']:.1f} | {row['passed']} |")
        print(f"| total | {results['notebooks']['total_s']:.1f} | |")


if __name__ == "__main__":
    sys.exit(main())
