"""Character data for language models: The Time Machine, as in d2l.

Chapter 1 introduces it. CONTRIBUTING.md, "Data": the text is looked up in
``$LSTM_TUTORIAL_DATA``, then in the user cache, and only then downloaded
from d2l's public URL, always checked against d2l's sha1. The preprocessing
(letters only, lower case) and the vocabulary order are d2l's
(``d2l.TimeMachine``, ``d2l.Vocab``); the two minibatch partitions are
d2l's random and sequential ones. Checked by ``tests/test_data.py``.
"""

import collections
import hashlib
import os
import re
import shutil
import tempfile
import urllib.request
from pathlib import Path

import numpy as onp
from mxnet import np

from . import device as _device

DATA_ENV_VAR = "LSTM_TUTORIAL_DATA"
TIMEMACHINE = "timemachine.txt"
TIMEMACHINE_SHA1 = "090b5e7e70c295757f55df93cb0a180b9691891a"
D2L_DATA_URL = "http://d2l-data.s3-accelerate.amazonaws.com/"  # d2l.DATA_URL


def cache_dir():
    """Where a downloaded file is kept: ``$XDG_CACHE_HOME/lstm_tutorial``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lstm_tutorial"


def sha1(path):
    """Hex sha1 of a file."""
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _unreadable(path, exc):
    return PermissionError(
        f"{path} cannot be read ({exc.strerror or exc}): make it readable, "
        f"or set ${DATA_ENV_VAR} to a folder holding a readable copy")


def _is_file(path):
    try:
        return path.is_file()
    except OSError as exc:  # a folder on the way that cannot be read
        raise _unreadable(path, exc) from None


def _checked(path, expected):
    try:
        found = sha1(path)
    except OSError as exc:
        raise _unreadable(path, exc) from None
    if found != expected:
        raise ValueError(
            f"{path} has sha1 {found}, expected {expected}: the file is "
            "corrupt or a different text; delete it or fix "
            f"${DATA_ENV_VAR}")
    return path


def _download(url, target, expected):
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileNotFoundError(
            f"{target.name} is not in ${DATA_ENV_VAR} (unset), and the cache "
            f"folder {target.parent} cannot be made ({exc.strerror or exc}; "
            f"XDG_CACHE_HOME is {os.environ.get('XDG_CACHE_HOME')!r}): set "
            f"{DATA_ENV_VAR} to a folder holding {target.name} (sha1 "
            f"{expected}), or XDG_CACHE_HOME to a writable folder") from None
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                shutil.copyfileobj(response, tmp)
        except OSError as exc:
            os.unlink(tmp.name)
            raise FileNotFoundError(
                f"{target.name} is not in ${DATA_ENV_VAR} or {target.parent}"
                f" and downloading {url} failed ({exc}). Offline? Set "
                f"{DATA_ENV_VAR} to a folder holding {target.name} "
                f"(sha1 {expected}).") from None
    try:
        _checked(tmp.name, expected)
    except ValueError:
        os.unlink(tmp.name)
        raise
    os.replace(tmp.name, target)
    return target


def find_data_file(name, expected_sha1, download=True):
    """Path of a data file: ``$LSTM_TUTORIAL_DATA``, cache, then download."""
    folder = os.environ.get(DATA_ENV_VAR)
    if folder:
        path = Path(folder).expanduser() / name
        if not _is_file(path):
            raise FileNotFoundError(
                f"${DATA_ENV_VAR} is {folder!r} but {path} does not exist: "
                f"point it at the folder holding {name}, or unset it to "
                "use the cache or a download")
        return _checked(path, expected_sha1)
    path = cache_dir() / name
    if _is_file(path):
        return _checked(path, expected_sha1)
    if not download:
        raise FileNotFoundError(
            f"{name} is in neither ${DATA_ENV_VAR} (unset) nor {path}; set "
            f"{DATA_ENV_VAR} to a folder holding it (sha1 {expected_sha1})")
    return _download(D2L_DATA_URL + name, path, expected_sha1)


def read_time_machine(download=True):
    """The raw text of H. G. Wells' *The Time Machine* (d2l's copy)."""
    path = find_data_file(TIMEMACHINE, TIMEMACHINE_SHA1, download)
    return path.read_text(encoding="utf-8")


def preprocess(text):
    """d2l's cleaning: runs of non-letters become one space; lower case."""
    return re.sub("[^A-Za-z]+", " ", text).lower()


def tokenize_chars(text):
    """Character tokens."""
    return list(text)


class Vocab:
    """Token <-> index, most frequent first after ``<unk>``, as d2l.Vocab.

    d2l sorts the tokens alphabetically; we keep that order so that indices
    agree with d2l's (``tests/test_data.py`` checks it).
    """

    def __init__(self, tokens, min_freq=0, reserved_tokens=()):
        tokens = list(tokens)
        if not tokens:
            raise ValueError("tokens is empty: cannot build a vocabulary")
        self.token_freqs = sorted(collections.Counter(tokens).items(),
                                  key=lambda kv: kv[1], reverse=True)
        kept = {t for t, n in self.token_freqs if n >= min_freq}
        self.idx_to_token = sorted({"<unk>", *reserved_tokens, *kept})
        self.token_to_idx = {t: i for i, t in enumerate(self.idx_to_token)}

    def __len__(self):
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        if isinstance(tokens, (list, tuple)):
            return [self[t] for t in tokens]
        return self.token_to_idx.get(tokens, self.unk)

    def to_tokens(self, indices):
        """Tokens of a list of indices (or of one index)."""
        if isinstance(indices, (list, tuple, onp.ndarray)):
            return [self.idx_to_token[int(i)] for i in indices]
        return self.idx_to_token[int(indices)]

    @property
    def unk(self):
        return self.token_to_idx["<unk>"]


def load_corpus_time_machine(max_tokens=None):
    """Character indices of the whole (cleaned) book, and the vocabulary."""
    tokens = tokenize_chars(preprocess(read_time_machine()))
    if max_tokens is not None:
        _check_positive("max_tokens", max_tokens)
        tokens = tokens[:max_tokens]
    vocab = Vocab(tokens)
    return [vocab[t] for t in tokens], vocab


def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")


class SeqDataLoader:
    """Minibatches ``(X, Y)`` of shape (batch_size, num_steps) from a corpus.

    ``Y`` is ``X`` shifted by one token. ``sequential=True`` is d2l's
    sequential partitioning: row ``i`` of one batch continues row ``i`` of
    the previous one, so a model may carry its state across batches.
    ``sequential=False`` is d2l's random partitioning: subsequences in random
    order, so the state must start afresh each batch. Each pass draws a new
    random offset (and order) from ``rng``; ``rng=None`` gives offset 0 and
    the same batches on every pass, which is what evaluation wants.
    """

    def __init__(self, corpus, batch_size, num_steps, sequential=True,
                 rng=None, ctx=None):
        _check_positive("batch_size", batch_size)
        _check_positive("num_steps", num_steps)
        corpus = onp.asarray(corpus)
        if corpus.ndim != 1 or corpus.size == 0:
            raise ValueError(
                "corpus must be a non-empty 1-D sequence of token indices, "
                f"got shape {corpus.shape}")
        if corpus.dtype.kind not in "iu":
            raise ValueError(
                "corpus must hold token indices (integers; map characters "
                f"to indices with a Vocab), got dtype {corpus.dtype}")
        if corpus.min() < 0 or corpus.max() >= 2 ** 31:
            raise ValueError(
                "corpus token indices must lie in [0, 2**31) (they become "
                f"int32), got {corpus.min()} to {corpus.max()}")
        corpus = corpus.astype("int64")
        # one batch of inputs, its targets shifted by one, and the offset
        needed = batch_size * num_steps + num_steps + 1
        if corpus.size < needed:
            raise ValueError(
                f"corpus has {corpus.size} tokens, too few for one batch of "
                f"batch_size={batch_size} x num_steps={num_steps} (needs "
                f"{needed}, counting the shifted targets and the offset)")
        self.corpus, self.batch_size, self.num_steps = corpus, batch_size, \
            num_steps
        self.sequential = sequential
        self.rng = rng
        self.ctx = ctx if ctx is not None else _device.device()

    def __len__(self):
        usable = self.corpus.size - self.num_steps  # worst-case offset
        if self.sequential:
            return (usable - 1) // (self.batch_size * self.num_steps)
        return (usable - 1) // self.num_steps // self.batch_size

    def _batches(self):
        rng = self.rng if self.rng is not None else onp.random.RandomState(0)
        offset = 0 if self.rng is None else rng.randint(0, self.num_steps)
        if self.sequential:
            n = len(self) * self.batch_size * self.num_steps
            Xs = self.corpus[offset:offset + n].reshape(self.batch_size, -1)
            Ys = self.corpus[offset + 1:offset + 1 + n].reshape(
                self.batch_size, -1)
            for i in range(0, Xs.shape[1], self.num_steps):
                yield (Xs[:, i:i + self.num_steps],
                       Ys[:, i:i + self.num_steps])
            return
        starts = offset + self.num_steps * onp.arange(
            len(self) * self.batch_size)
        rng.shuffle(starts)
        steps = onp.arange(self.num_steps)
        for i in range(0, starts.size, self.batch_size):
            idx = starts[i:i + self.batch_size, None] + steps
            yield self.corpus[idx], self.corpus[idx + 1]

    def __iter__(self):
        for X, Y in self._batches():
            yield (np.array(X, ctx=self.ctx, dtype="int32"),
                   np.array(Y, ctx=self.ctx, dtype="int32"))


def load_data_time_machine(batch_size, num_steps, sequential=True,
                           max_tokens=None, val_fraction=0.1, seed=0,
                           ctx=None):
    """Train and validation loaders over The Time Machine, and the vocab.

    The last ``val_fraction`` of the book is held out for validation.
    """
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got "
                         f"{val_fraction}")
    corpus, vocab = load_corpus_time_machine(max_tokens)
    split = int(len(corpus) * (1 - val_fraction))
    rng = onp.random.RandomState(seed)
    train = SeqDataLoader(corpus[:split], batch_size, num_steps, sequential,
                          rng, ctx)
    val = SeqDataLoader(corpus[split:], batch_size, num_steps, True,
                        None, ctx)
    return train, val, vocab


def unigram_perplexity(train_corpus, val_corpus, vocab_size):
    """Perplexity on ``val_corpus`` of the character frequencies of train.

    The baseline a model without any context achieves (add-one smoothing).
    """
    counts = onp.bincount(onp.asarray(train_corpus), minlength=vocab_size)
    p = (counts + 1) / (counts.sum() + vocab_size)
    return float(onp.exp(-onp.log(p[onp.asarray(val_corpus)]).mean()))
