"""Recommender benchmark: fit time, peak memory and ``recommend`` latency at scale.

Builds a deterministic (seeded) synthetic catalog that looks like
fixtures/seed_catalog.yaml scaled up: short entries (a 5-12 word title, a 1-3
sentence summary of 30-80 words) of Zipf-distributed words drawn from ~540 real
Kubernetes, security and general words plus a long tail of 5,000 pseudo
project names and CVE ids, with function words mixed in, one of 60 topics per
entry, 1-4 tags, security areas, kinds and stages in the seed's proportions
and a 40-step learning path.  Words are independent draws, so bigrams are more
varied than in real prose: a pessimistic case for the bigram vocabulary.

Each variant runs in a fresh child process, so peak RSS (``VmHWM``: the whole
process, catalog and imports included) is not shared between them:

  handwritten         text block only: the hand-written numpy vectoriser that
                      the engine used until commit LEGACY_COMMIT (read from git)
  sklearn             text block only: sklearn's TfidfVectorizer as the engine
                      configures it now (recommender.engine.text.TextVectorizer)
  engine[-handwritten]  what the refit task does: ``recommender.engine.fit`` on
                      the catalog, then the model written as a directory of
                      ``.npy`` arrays (recommender.engine.storage, as
                      recommender.store does before splitting the files into
                      database parts of 32 MiB); ``-handwritten`` swaps the old
                      vectoriser into the engine for comparison
  serve[-handwritten]   web processes: two at once map that model
                      (``np.load(mmap_mode="r")``), each times ``recommend``
                      (10 items) and ``next`` (1 item) p50/p99 over a few hundred
                      synthetic learners (cold start, focus, path followers,
                      1-30 interactions) after a warm-up call, and ``similar``
                      p50; then, while both still hold the model, each reads its
                      PSS (``/proc/self/smaps_rollup``: shared pages count half).
                      From ``CANDIDATE_THRESHOLD`` resources on, the exact ranking
                      is timed too (``exact_*``), for comparison.

Targets at 100k resources: fit < 60 s, whole-process RSS < 1 GiB, recommend
p50 < 30 ms.

Usage:  .venv/bin/python bench/recommender_fit.py [--docs 100000] [--learners 300]
        [--seed 7] [--only handwritten,sklearn,engine,serve] [--min-df 2] [--stream]

``--min-df`` tries another ``min_df`` for the engine's vectoriser, ``--stream``
compresses the model while pickling it (instead of ``zlib.compress(pickle.dumps())``) for
the ``--pickle`` comparison with the previous storage (a pickle unpickled by each process),
``--model-dir DIR`` keeps the stored model in DIR (reused by a later ``--only serve`` run).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pickle
import random
import resource
import subprocess
import sys
import tempfile
import time
import types
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VARIANTS = (
    "handwritten",
    "sklearn",
    "engine-handwritten",
    "serve-handwritten",
    "engine",
    "serve",
)
#: Last commit whose recommender/engine/text.py is the hand-written vectoriser.
LEGACY_COMMIT = "6c194770591d383df414e80d7dc865cae80f779c"

# ---------------------------------------------------------------- vocabulary


def _words(text: str) -> list[str]:
    return text.split()


K8S = """
kubernetes k8s pod pods node nodes cluster clusters kubectl kube-proxy kubelet kube-apiserver
kube-scheduler kube-controller-manager etcd control plane container containers image images
registry deployment deployments replicaset statefulset statefulsets daemonset daemonsets job jobs
cronjob namespace namespaces configmap configmaps secret secrets service services ingress egress
gateway api endpoint endpoints label labels selector annotations taint taints toleration affinity
scheduler scheduling controller controllers operator operators crd crds webhook webhooks helm
chart charts kustomize manifest manifests yaml volume volumes persistentvolume pvc storage csi cni
calico cilium flannel weave istio envoy linkerd sidecar mesh proxy dns coredns loadbalancer
nodeport clusterip autoscaler hpa autoscaling probe liveness readiness rollout rollback canary
upgrade upgrades kubeadm minikube kind k3s eks gke aks openshift rancher docker dockerfile
containerd cri-o runc runtime oci pod-security seccomp apparmor selinux capabilities cgroups
linux kernel ebpf falco trivy opa gatekeeper kyverno prometheus grafana metrics logging fluentd
loki jaeger tracing observability argocd flux gitops terraform ansible pipeline jenkins vault
consul spiffe spire mesos swarm nomad serverless knative microservices cloud-native devops sre
networking iptables ipvs overlay vxlan bgp multus kubernetes.io v1.28 v1.29 kube-bench kube-hunter
"""

SECURITY = """
security rbac role roles rolebinding clusterrole binding bindings authentication authorization
tls mtls certificate certificates pki x509 encryption kms audit privilege privileges least
escalation exploit exploits vulnerability vulnerabilities cve attack attacks attacker attackers
threat threats hardening policy policies networkpolicy isolation sandbox gvisor multi-tenancy
tenant tenants token tokens serviceaccount oidc identity iam credentials supply-chain sbom
signing cosign sigstore scanning scanner compliance cis benchmark pentest red-team lateral
movement breakout escape incident response forensics detection runtime-security zero-trust
firewall segmentation admission validation mutation secure insecure misconfiguration exposure
dashboard anonymous kubeconfig impersonation audit-logging rotation expiry trust root malicious
compromise compromised backdoor cryptomining ransomware phishing secrets-management
"""

GENERAL = """
introduction guide tutorial overview deep dive hands-on practical production best practices
beginners advanced learn learning explained explain understand understanding build building run
running deploy deploying manage managing scale scaling monitor monitoring debug debugging
troubleshooting configure configuring configuration install installing setup set write writing
use using create creating test testing design patterns architecture performance reliability
availability resilience failure failures outage postmortem lessons story journey migration
migrating moving team teams company companies engineering engineers developer developers
operations ops platform platforms tooling tool tools open source project projects community
talk workshop course book chapter series video blog post article paper documentation docs
reference cheat sheet example examples demo lab labs exercise exercises step steps first
simple easy complex hard real world large small fast faster safe safer common mistakes
pitfalls tips tricks way ways approach approaches model models concept concepts core basic
basics fundamentals internals inside under hood part parts new modern cloud cloud-provider
aws azure google bare metal on-premises hybrid edge data database databases stateful stateless
applications application app apps workload workloads traffic requests network latency cost
costs budget resources resource limits quotas cpu memory disk filesystem read-only non-root
user users access control permissions group groups file files process processes host hosts
machine machines virtual vm vms infrastructure code automation automate automated continuous
delivery integration release releases version versions update updates patch patches change
changes history future state status health check checks alert alerts alerting dashboard
dashboards log logs event events team's organisation organization scale-out multi cluster-wide
across between within without against behind beyond along everything anything something
kubernetes-native declarative imperative reconcile reconciliation loop loops desired actual
"""

#: Function words (sklearn stop words, mostly) mixed into the text so the
#: tokeniser and stop-word filter do realistic work.
FUNCTION = _words(
    "the of and to a in for with how is on it this that you your from by as are can be "
    "an at or we what why when its into not all more about our these do which"
)

TAGS = _words("""
kubernetes docker operations networking pods hands-on best-practices tls orchestration
threat-model services pki microservices mesos local-development kubelet ingress cluster-setup
cloud-native linux-containers traefik swarm minikube learning-path kubectl incidents go etcd
devops security-tools vault consul infrastructure-as-code red-teaming elasticsearch nmap
helm monitoring observability service-mesh storage gitops ci-cd runtime compliance
""")

AREAS = _words("""
container-hardening cluster-joining rbac api-authentication admission-control network-policy
secrets etcd-protection kubelet-access audit-logging resource-limits threat-modelling
multi-tenancy
""")

KINDS = ("article", "docs", "repository", "tool", "tutorial", "book", "talk", "paper", "series")
KIND_P = (22, 8, 4, 3, 3, 2, 2, 1, 1)
STAGE_NAMES = ("getting-started", "production-ready", "security")
STAGE_P = (16, 9, 22)

SYLLABLES = _words(
    "ku be net ar go flux ka ra ti on lo dex pro me the us ze ro vik sta ber no va cor "
    "tel mi gra fa na lin ker sec ops har bor kas ten vel ero rook ce ph lon ghorn ji mo "
    "tra vo py ral qui nix ox ide rex tor pa lux"
)

N_TOPICS = 60
TOPIC_WORDS = 150
N_TAIL = 5000  # pseudo project/product names: the long tail of the vocabulary
ZIPF_S = 1.07
PATH_STEPS = 40


def _zipf(n: int, s: float = ZIPF_S, q: float = 2.7) -> np.ndarray:
    """Zipf-Mandelbrot probabilities for ranks 1..n."""
    p = 1.0 / (np.arange(1, n + 1) + q) ** s
    return p / p.sum()


def _vocabulary(rng: np.random.Generator) -> list[str]:
    real = list(dict.fromkeys(K8S.split() + SECURITY.split() + GENERAL.split()))
    rng.shuffle(real)
    tail: dict[str, None] = {}
    while len(tail) < N_TAIL:
        k = int(rng.integers(2, 4))
        tail["".join(rng.choice(SYLLABLES, size=k))] = None
    # Real words take the frequent ranks, pseudo names the long tail.
    known = set(real)
    return real + [w for w in tail if w not in known]


def _sentences(words: list[str], rnd: random.Random) -> str:
    """Join words into 1-3 sentences, each with a comma when it is long."""
    n = len(words)
    k = min(rnd.randint(1, 3), n // 10)
    cuts = [n * j // k + rnd.randint(-3, 3) for j in range(1, k)]
    out = []
    for a, b in zip([0, *cuts], [*cuts, n], strict=True):
        part = words[a:b]
        if len(part) > 12:
            c = rnd.randint(4, len(part) - 5)
            part[c] += ","
        part[0] = part[0][:1].upper() + part[0][1:]
        out.append(" ".join(part) + ".")
    return " ".join(out)


def build_catalog(n_docs: int, seed: int) -> list:
    """A deterministic list of :class:`~recommender.engine.Document`."""
    from recommender.engine import Document

    rng = np.random.default_rng(seed)
    rnd = random.Random(seed)
    vocab = np.array(_vocabulary(rng), dtype=object)
    n_vocab = len(vocab)
    topic_sets = np.stack(
        [rng.choice(min(n_vocab, 2500), size=TOPIC_WORDS, replace=False) for _ in range(N_TOPICS)]
    )
    topic_tags = rng.integers(0, len(TAGS), size=(N_TOPICS, 3)).tolist()
    topic_areas = rng.integers(0, len(AREAS), size=(N_TOPICS, 2)).tolist()

    topic = rng.integers(0, N_TOPICS, size=n_docs)
    title_len = rng.integers(5, 13, size=n_docs)
    summary_len = rng.integers(30, 81, size=n_docs)
    lengths = np.column_stack([title_len, summary_len]).ravel()
    total = int(lengths.sum())
    doc_of_word = np.repeat(np.repeat(np.arange(n_docs), 2), lengths)
    is_title = np.repeat(np.tile([True, False], n_docs), lengths)
    # ~25% function words in titles, ~40% in summaries; content words come
    # 60/40 from the global distribution and from the document's topic.
    function = rng.random(total) < np.where(is_title, 0.25, 0.40)
    from_topic = rng.random(total) < 0.4
    words = vocab[rng.choice(n_vocab, size=total, p=_zipf(n_vocab))]
    topical = topic_sets[
        topic[doc_of_word], rng.choice(TOPIC_WORDS, size=total, p=_zipf(TOPIC_WORDS, s=1.0))
    ]
    words = np.where(from_topic, vocab[topical], words)
    fillers = np.array(FUNCTION, dtype=object)[rng.integers(0, len(FUNCTION), total)]
    words_list = np.where(function, fillers, words).tolist()
    del words, topical, fillers, function, from_topic, doc_of_word, is_title

    stage = rng.choice(3, size=n_docs, p=np.array(STAGE_P) / sum(STAGE_P)).tolist()
    kind = rng.choice(len(KINDS), size=n_docs, p=np.array(KIND_P) / sum(KIND_P)).tolist()
    difficulty = rng.choice([1, 2, 3], size=n_docs, p=[0.45, 0.4, 0.15]).tolist()
    minutes = rng.choice([5, 10, 15, 20, 30, 45, 60, 90, 0], size=n_docs).tolist()
    popularity = np.floor(rng.pareto(1.5, size=n_docs) * 10).tolist()
    path_docs = rng.choice(n_docs, size=min(PATH_STEPS, n_docs), replace=False).tolist()
    position = dict(zip(path_docs, range(1, len(path_docs) + 1), strict=True))

    docs = []
    start = 0
    for i, (t, s, tp) in enumerate(
        zip(title_len.tolist(), summary_len.tolist(), topic.tolist(), strict=True)
    ):
        title_words = words_list[start : start + t]
        summary_words = words_list[start + t : start + t + s]
        start += t + s
        if rnd.random() < 0.2:  # a rare identifier: a CVE id in ~1 of 5 summaries
            summary_words[rnd.randrange(s)] = (
                f"CVE-{rnd.randint(2016, 2025)}-{rnd.randint(1000, 50000)}"
            )
        n_tags = rnd.randint(1, 4)
        tags = [TAGS[j] for j in topic_tags[tp][: min(n_tags, 2)]]
        tags += rnd.sample(TAGS, max(n_tags - 2, 0))
        areas = []
        if stage[i] == 2 or rnd.random() < 0.15:
            areas = [AREAS[j] for j in topic_areas[tp][: rnd.randint(1, 2)]]
        docs.append(
            Document(
                id=i + 1,
                title=" ".join(w[:1].upper() + w[1:] for w in title_words),
                summary=_sentences(summary_words, rnd),
                tags=tuple(dict.fromkeys(tags)),
                areas=tuple(dict.fromkeys(areas)),
                kind=KINDS[kind[i]],
                stage=STAGE_NAMES[stage[i]],
                difficulty=difficulty[i],
                minutes=minutes[i] or None,
                path_position=position.get(i),
                popularity=popularity[i],
            )
        )
    return docs


def build_learners(model, n_learners: int, seed: int) -> list:
    """Cold-start, focus-only and history learners of various sizes."""
    from recommender.engine import Interaction, Learner

    rng = np.random.default_rng(seed + 1)
    path_ids = [int(model.doc_ids[r]) for r in model.path_rows]
    states = ("completed", "in_progress", "planned", "skipped")
    learners = []
    for n in range(n_learners):
        kind = n % 10
        focus = {}
        if kind in (1, 2, 3) or rng.random() < 0.3:
            focus = {str(a): 1.0 for a in rng.choice(AREAS, size=int(rng.integers(1, 3)))}
        interactions = []
        if kind != 0:
            done = path_ids[: int(rng.integers(0, len(path_ids) // 2))] if kind > 3 else []
            interactions += [
                Interaction(d, "completed", None, float(rng.integers(0, 400))) for d in done
            ]
            for d in rng.choice(model.doc_ids, size=int(rng.integers(0, 31)), replace=False):
                state = str(rng.choice(states, p=[0.6, 0.15, 0.15, 0.1]))
                rating = (
                    int(rng.integers(1, 6)) if state == "completed" and rng.random() < 0.5 else None
                )
                interactions.append(Interaction(int(d), state, rating, float(rng.integers(0, 400))))
        unique = {i.doc_id: i for i in interactions}
        learners.append(
            Learner(
                interactions=tuple(unique.values()),
                focus=focus,
                level=int(rng.integers(1, 4)) if rng.random() < 0.3 else None,
                minutes_budget=int(rng.choice([60, 120, 240])) if rng.random() < 0.3 else None,
            )
        )
    return learners


# ---------------------------------------------------------------- measurement


def current_rss_mib() -> float:
    """Resident set size of this process now, in MiB (Linux)."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mib() -> float:
    """High-water mark of this process's resident set, in MiB.

    ``VmHWM`` starts afresh at ``exec``, while ``ru_maxrss`` of a child may
    start at the size of the parent it was forked from, so prefer the former.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def legacy_vectorizer() -> type | None:
    """The hand-written numpy ``TextVectorizer`` as of :data:`LEGACY_COMMIT`.

    It was replaced by sklearn's ``TfidfVectorizer``; its source is read from
    git so the comparison stays reproducible.  ``None`` without a git checkout.
    """
    try:
        source = subprocess.run(
            ["git", "show", f"{LEGACY_COMMIT}:recommender/engine/text.py"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("legacy_text")
    sys.modules[module.__name__] = module
    exec(compile(source, f"{LEGACY_COMMIT[:7]}:recommender/engine/text.py", "exec"), vars(module))  # noqa: S102
    return module.TextVectorizer


def time_recommend(model, n_learners: int, seed: int) -> dict:
    from recommender.engine import recommend, similar

    learners = build_learners(model, n_learners, seed)
    recommend(model, learners[1])  # warm-up
    times = []
    for learner in learners:
        start = time.perf_counter()
        recommend(model, learner)
        times.append(time.perf_counter() - start)
    similar_times = []
    for doc_id in model.doc_ids[:: max(len(model.doc_ids) // 50, 1)][:50]:
        start = time.perf_counter()
        similar(model, int(doc_id))
        similar_times.append(time.perf_counter() - start)
    return {
        "recommend_p50_ms": round(float(np.percentile(times, 50)) * 1000, 2),
        "recommend_p99_ms": round(float(np.percentile(times, 99)) * 1000, 2),
        "similar_p50_ms": round(float(np.percentile(similar_times, 50)) * 1000, 2),
    }


def time_engine(model, n_learners: int, seed: int, *, candidates=None, limit: int = 10) -> dict:
    from recommender.engine import recommend

    learners = build_learners(model, n_learners, seed)
    recommend(model, learners[1], limit=limit, candidates=candidates)  # warm-up
    times = []
    for learner in learners:
        start = time.perf_counter()
        recommend(model, learner, limit=limit, candidates=candidates)
        times.append(time.perf_counter() - start)
    return {
        "p50_ms": round(float(np.percentile(times, 50)) * 1000, 2),
        "p99_ms": round(float(np.percentile(times, 99)) * 1000, 2),
    }


def smaps_rollup_mib() -> dict:
    """This process's RSS and PSS (shared pages split between the processes mapping them)."""
    out = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("Rss", "Pss", "Shared_Clean", "Private_Clean", "Private_Dirty"):
            out[key.lower() + "_mib"] = round(int(rest.split()[0]) / 1024, 1)
    return out


def _barrier(directory: Path, name: str, peers: int, timeout: float = 1800.0) -> None:
    """Wait until ``peers`` processes have reached the barrier ``name`` (files in a dir)."""
    (directory / f"{name}-{os.getpid()}").touch()
    deadline = time.monotonic() + timeout
    while len(list(directory.glob(f"{name}-*"))) < peers and time.monotonic() < deadline:
        time.sleep(0.05)


def dir_size(path: Path) -> tuple[int, int, int]:
    """(total bytes, database parts of recommender.store.PART_BYTES, largest file bytes)."""
    part = 32 * 1024 * 1024
    sizes = [f.stat().st_size for f in path.iterdir()]
    return sum(sizes), sum(max(1, -(-size // part)) for size in sizes), max(sizes)


def store_payload(model, *, stream: bool) -> bytes:
    """The model as recommender.store keeps it: zlib (level 1) of its pickle.

    ``stream`` compresses while pickling instead of holding the whole
    uncompressed pickle in memory first.
    """
    if not stream:
        return zlib.compress(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL), 1)
    compressor, out = zlib.compressobj(1), io.BytesIO()

    class Sink:
        def write(self, data: bytes) -> None:
            out.write(compressor.compress(data))

    pickle.dump(model, Sink(), protocol=pickle.HIGHEST_PROTOCOL)
    out.write(compressor.flush())
    return out.getvalue()


def run_child(variant: str, scratch: Path, args: argparse.Namespace) -> dict:
    """One measurement in a fresh process; returns a JSON-able dict."""
    import recommender.engine  # noqa: F401 (imports count towards the baseline RSS)
    import recommender.engine.text as text
    from recommender.engine import fit
    from recommender.engine.text import TextVectorizer

    n_learners, seed = args.learners, args.seed
    if args.min_df != 1:  # an alternative setting of the engine's TfidfVectorizer
        configured = text.make_tfidf
        text.make_tfidf = lambda: configured().set_params(min_df=args.min_df)
    result: dict = {"variant": variant}
    legacy = variant.endswith("handwritten")
    if legacy:
        vectorizer_class = legacy_vectorizer()
        if vectorizer_class is None:
            return {**result, "skipped": f"no git checkout with {LEGACY_COMMIT[:7]}"}
    flavour = "handwritten" if legacy else "sklearn"
    model_file = scratch / f"model-{flavour}.pickle.z"
    model_dir = (args.model_dir or scratch) / f"model-{flavour}"

    if variant.startswith("serve"):  # a web process: map the stored model, answer requests
        from recommender.engine.ranking import CANDIDATE_THRESHOLD
        from recommender.engine.storage import model_load

        result["rss_before_mib"] = round(current_rss_mib(), 1)
        start = time.perf_counter()
        if args.pickle:
            model = pickle.loads(zlib.decompress(model_file.read_bytes()))  # noqa: S301 (ours)
        else:
            model = model_load(model_dir)
        result["load_s"] = round(time.perf_counter() - start, 3)
        result["rss_loaded_mib"] = round(current_rss_mib(), 1)
        result.update(time_recommend(model, n_learners, seed))
        result.update(
            {f"next_{k}": v for k, v in time_engine(model, n_learners, seed, limit=1).items()}
        )
        if model.n_docs >= CANDIDATE_THRESHOLD:
            exact = time_engine(model, n_learners, seed, candidates=False)
            result.update({f"exact_recommend_{k}": v for k, v in exact.items()})
            exact = time_engine(model, n_learners, seed, candidates=False, limit=1)
            result.update({f"exact_next_{k}": v for k, v in exact.items()})
        result["peak_rss_mib"] = round(peak_rss_mib(), 1)
        if args.peers > 1:
            _barrier(args.barrier, "measured", args.peers)
        result.update(smaps_rollup_mib())
        if args.peers > 1:
            _barrier(args.barrier, "read", args.peers)  # nobody unmaps before all have read
        return result

    with (scratch / "catalog.pickle").open("rb") as fh:
        docs = pickle.load(fh)  # noqa: S301 (written by our parent process)
    if variant in ("handwritten", "sklearn"):  # the text block alone
        titles = [d.title for d in docs]
        summaries = [d.summary for d in docs]
        result["rss_before_mib"] = round(peak_rss_mib(), 1)
        start = time.perf_counter()
        vectorizer = vectorizer_class() if legacy else TextVectorizer()
        matrix = vectorizer.fit_transform(titles, summaries)
        result["fit_s"] = round(time.perf_counter() - start, 2)
        result["features"] = vectorizer.n_features
        result["nnz"] = int(matrix.nnz)
        result["peak_rss_mib"] = round(peak_rss_mib(), 1)
        return result

    # engine: what the refit task does (fit, then store), stored for "serve".
    if legacy:
        import recommender.engine.model as model_module

        model_module.TextVectorizer = vectorizer_class
    result["rss_before_mib"] = round(peak_rss_mib(), 1)
    start = time.perf_counter()
    model = fit(docs)
    del docs
    result["fit_s"] = round(time.perf_counter() - start, 2)
    result["features"] = model.matrix.shape[1]
    result["nnz"] = int(model.matrix.nnz)
    result["fit_peak_rss_mib"] = round(peak_rss_mib(), 1)
    if args.pickle:
        start = time.perf_counter()
        payload = store_payload(model, stream=args.stream)
        result["pickle_s"] = round(time.perf_counter() - start, 2)
        result["payload_mib"] = round(len(payload) / 2**20, 1)
        model_file.write_bytes(payload)
        del payload
    from recommender.engine.storage import model_save

    if model_dir.exists():
        import shutil

        shutil.rmtree(model_dir)
    model_dir.mkdir(parents=True)
    start = time.perf_counter()
    model_save(model, model_dir)
    result["store_s"] = round(time.perf_counter() - start, 2)
    total, parts, largest = dir_size(model_dir)
    result["stored_mib"] = round(total / 2**20, 1)
    result["parts"] = parts
    result["largest_file_mib"] = round(largest / 2**20, 1)
    result["peak_rss_mib"] = round(peak_rss_mib(), 1)
    return result


def report(results: dict[str, dict]) -> None:
    """Human-readable summary with the ratios and the targets."""
    print("\nsummary (targets at 100k: fit < 60 s, peak RSS < 1024 MiB, recommend p50 < 30 ms)")
    hand, sk = results.get("handwritten", {}), results.get("sklearn", {})
    for name, row in (("handwritten", hand), ("sklearn", sk)):
        if "fit_s" in row:
            print(
                f"  text block only, {name:<11}  fit {row['fit_s']:5.1f} s  peak RSS "
                f"{row['peak_rss_mib']:5.0f} MiB  ({row['features']:,} features, "
                f"{row['nnz']:,} non-zeros)"
            )
    if "fit_s" in hand and "fit_s" in sk:
        print(
            f"  ratio sklearn / handwritten: fit time x{sk['fit_s'] / hand['fit_s']:.2f}, "
            f"peak RSS x{sk['peak_rss_mib'] / hand['peak_rss_mib']:.2f}"
        )
    for flavour, suffix in (("handwritten", "-handwritten"), ("sklearn", "")):
        engine, serve = results.get("engine" + suffix, {}), results.get("serve" + suffix, {})
        if "fit_s" in engine:
            ok = engine["fit_s"] < 60 and engine["peak_rss_mib"] < 1024
            pickled = (
                f"; pickle+zlib {engine['pickle_s']} s, {engine['payload_mib']} MiB"
                if "pickle_s" in engine
                else ""
            )
            print(
                f"  engine.fit, {flavour:<11}  fit {engine['fit_s']:5.1f} s  peak RSS "
                f"{engine['fit_peak_rss_mib']:5.0f} MiB, {engine['peak_rss_mib']:5.0f} MiB with "
                f"storing ({engine['store_s']} s, {engine['stored_mib']} MiB in "
                f"{engine['parts']} parts of <= 32 MiB, largest file "
                f"{engine['largest_file_mib']} MiB{pickled})  {'met' if ok else 'MISSED'}"
            )
        for name in sorted(n for n in results if n.startswith("serve" + suffix + "#")):
            serve = results[name]
            if "recommend_p50_ms" not in serve:
                continue
            ok = serve["recommend_p50_ms"] < 30
            exact = (
                f"; exact ranking: recommend p50 {serve['exact_recommend_p50_ms']} / p99 "
                f"{serve['exact_recommend_p99_ms']} ms, next p50 {serve['exact_next_p50_ms']} / "
                f"p99 {serve['exact_next_p99_ms']} ms"
                if "exact_recommend_p50_ms" in serve
                else ""
            )
            print(
                f"  serving {name[-1]},  {flavour:<11}  load {serve['load_s']} s, RSS "
                f"{serve['rss_mib']:.0f} MiB, PSS {serve['pss_mib']:.0f} MiB (shared clean "
                f"{serve['shared_clean_mib']:.0f}, peak RSS {serve['peak_rss_mib']:.0f});  "
                f"recommend p50 {serve['recommend_p50_ms']} / p99 {serve['recommend_p99_ms']} ms,"
                f" next p50 {serve['next_p50_ms']} / p99 {serve['next_p99_ms']} ms; similar p50 "
                f"{serve['similar_p50_ms']} ms{exact}  {'met' if ok else 'MISSED'}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--learners", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", default=",".join(VARIANTS), help="comma-separated variants")
    parser.add_argument(
        "--min-df", type=int, default=1, help="min_df of the engine's TfidfVectorizer (try 2)"
    )
    parser.add_argument(
        "--stream", action="store_true", help="compress the model while pickling it"
    )
    parser.add_argument(
        "--pickle", action="store_true", help="also store (and serve) the previous pickle format"
    )
    parser.add_argument(
        "--model-dir", type=Path, help="keep the stored model here (an --only serve run reuses it)"
    )
    parser.add_argument("--processes", type=int, default=2, help="serving processes at once")
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--scratch", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--peers", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--barrier", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, args.scratch, args)))
        return

    variants = args.only.split(",")
    for variant in variants:
        engine = variant.replace("serve", "engine")
        if variant.startswith("serve") and engine not in variants and not args.model_dir:
            parser.error(f"{variant} loads the model that the matching engine variant stores")
    needs_catalog = any(not v.startswith("serve") for v in variants)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs", flush=True)
    print(f"sklearn min_df={args.min_df}, stream pickle: {args.stream}", flush=True)
    results = {}
    with tempfile.TemporaryDirectory(prefix="kubelearn-bench-") as scratch:
        if needs_catalog:
            start = time.perf_counter()
            docs = build_catalog(args.docs, args.seed)
            print(f"catalog: {len(docs):,} documents built in {time.perf_counter() - start:.1f} s")
            with (Path(scratch) / "catalog.pickle").open("wb") as fh:
                pickle.dump(docs, fh, protocol=pickle.HIGHEST_PROTOCOL)
            del docs
        for variant in variants:
            command = [sys.executable, __file__, "--child", variant, "--scratch", scratch]
            command += ["--learners", str(args.learners), "--seed", str(args.seed)]
            command += ["--min-df", str(args.min_df)] + (["--stream"] if args.stream else [])
            command += ["--pickle"] if args.pickle else []
            command += ["--model-dir", str(args.model_dir)] if args.model_dir else []
            if not variant.startswith("serve"):
                out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
                results[variant] = json.loads(out.strip().splitlines()[-1])
                print(json.dumps(results[variant]), flush=True)
                continue
            # Web processes side by side, mapping the same model files.
            barrier = Path(tempfile.mkdtemp(dir=scratch, prefix="barrier-"))
            peers = ["--peers", str(args.processes), "--barrier", str(barrier)]
            children = [
                subprocess.Popen([*command, *peers], stdout=subprocess.PIPE, text=True)
                for _ in range(args.processes)
            ]
            for number, child in enumerate(children, 1):
                out, _ = child.communicate()
                if child.returncode:
                    raise SystemExit(f"{variant} process {number} failed")
                results[f"{variant}#{number}"] = json.loads(out.strip().splitlines()[-1])
                print(json.dumps(results[f"{variant}#{number}"]), flush=True)
    report(results)


if __name__ == "__main__":
    main()
