"""`make demo`: serve the bundled demo site on 127.0.0.1, run the main job against it with a
demo configuration (SQLite and files under ./demo-data), and say where the results are.

Run it twice: the second run asks the server whether anything changed (304) and adds nothing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from demo_server import DemoSite  # noqa: E402

from digest.runtime import cli  # noqa: E402

# Both can be moved (tests do): where the demo's data goes, and the port it prefers. The port
# is fixed when free, so that the second run polls the same URLs and gets 304s.
DATA = Path(os.environ.get("CLAIMWATCH_DEMO_DIR", ROOT / "demo-data"))
PREFERRED_PORT = int(os.environ.get("CLAIMWATCH_DEMO_PORT", "8765"))


def write_config(base_url: str) -> Path:
    """The demo configuration: local site allowed, no delay between requests."""
    DATA.mkdir(parents=True, exist_ok=True)
    config = DATA / "sources.yaml"
    template = (HERE / "demo-sources.yaml").read_text(encoding="utf-8")
    config.write_text(template.replace("__BASE_URL__", base_url), encoding="utf-8")
    return config


def main() -> int:
    with DemoSite(HERE / "demo-site", port=PREFERRED_PORT) as site:
        print(f"demo site serving on {site.base_url}")
        config = write_config(site.base_url)
        ingest_code = cli.main(["--config", str(config), "ingest"])
        print()
        digest_code = cli.main(["--config", str(config), "digest"])
    corpus = DATA / "corpus"
    files = sorted(p.name for p in corpus.glob("*.txt"))
    print(f"\ncorpus:  {corpus}  ({len(files)} documents)")
    for name in files:
        print(f"  {name}")
    digests = DATA / "digests"
    pages = sorted(p.name for p in digests.glob("????-??-??-????.html"))
    plural = "" if len(pages) == 1 else "s"
    print(f"digests: {digests / 'index.html'}  ({len(pages)} digest page{plural})")
    for name in pages:
        print(f"  {name}")
    print(f"claims:  .venv/bin/claimwatch --config {config} claims --format jsonl")
    return ingest_code or digest_code


if __name__ == "__main__":
    sys.exit(main())
