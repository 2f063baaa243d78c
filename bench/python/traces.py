"""Fetches the real cache traces of the hit-ratio section (BENCHMARKS.md section 8) into a
directory, from libCacheSim's source package on PyPI (the only public place this machine's
registries reach that ships real traces). Invariant: a file is written only after the whole
package matched its pinned SHA-256, so a trace on disk is always the published one.

The package is `libcachesim` 0.3.5's sdist (81 MB, GPL-3.0, like libCacheSim itself). It carries
libCacheSim's sample traces under `src/libCacheSim/data/`:

- `cloudPhysicsIO.oracleGeneral.bin`: a block-I/O trace from CloudPhysics (the trace set of
  Waldspurger et al., "Efficient MRC Construction with SHARDS", FAST '15), 113,872 requests to
  48,974 blocks, in libCacheSim's oracleGeneral records (24 bytes: u32 time, u64 id, u32 size,
  i64 next access).
- `twitter_cluster52.csv`: the first 1,000,000 requests of cluster 52 of Twitter's production
  in-memory cache traces (Yang et al., OSDI '20; the traces are published under CC BY 4.0 at
  github.com/twitter/cache-trace), as `time, object, size, next_access_vtime`.

libCacheSim's README calls these samples small; the report says so next to their rows.

Usage: python traces.py DIR   -> prints one JSON object {"dir": DIR, "files": [...]} on stdout
"""

import hashlib
import json
import os
import sys
import tarfile
import tempfile
import urllib.request

URL = (
    "https://files.pythonhosted.org/packages/af/c4/"
    "45905a3f8bc84593550af94a882795e78f2f2b200f90737ff8e4bdb71d5c/libcachesim-0.3.5.tar.gz"
)
SHA256 = "a1512046ab45bc0e5f0a81e5673cd02209477ffeefcb17a05fa714a06371abfb"
MEMBERS = {
    "cloudPhysicsIO.oracleGeneral.bin":
        "libcachesim-0.3.5/src/libCacheSim/data/cloudPhysicsIO.oracleGeneral.bin",
    "twitter_cluster52.csv": "libcachesim-0.3.5/src/libCacheSim/data/twitter_cluster52.csv",
}


def fetch(directory):
    os.makedirs(directory, exist_ok=True)
    wanted = [name for name in MEMBERS if not os.path.exists(os.path.join(directory, name))]
    if wanted:
        with tempfile.TemporaryDirectory(dir=directory) as tmp:
            sdist = os.path.join(tmp, "libcachesim.tar.gz")
            digest = hashlib.sha256()
            with urllib.request.urlopen(URL, timeout=300) as response, open(sdist, "wb") as out:
                while chunk := response.read(1 << 20):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != SHA256:
                sys.exit(f"{URL}: SHA-256 {digest.hexdigest()}, expected {SHA256}")
            with tarfile.open(sdist) as tar:
                for name in wanted:
                    member = tar.getmember(MEMBERS[name])
                    source = tar.extractfile(member)
                    part = os.path.join(tmp, name)
                    with open(part, "wb") as out:
                        out.write(source.read())
                    os.replace(part, os.path.join(directory, name))
    json.dump({"dir": directory, "source": URL, "sha256": SHA256,
               "files": sorted(MEMBERS)}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    fetch(sys.argv[1])
