"""Feed ingestion — the most security-critical code of the project, in the order data flows.

    address.py    is this address one we may fetch? (SSRF checks, errors, FetchPolicy)
    transport.py  resolve once, check, connect to exactly that address (no DNS rebinding)
    decoding.py   read the body, capped after decompression (no gzip bombs)
    fetch.py      one safe GET with redirects, conditional headers, Retry-After → FetchResult
    discovery.py  find the feed behind a page a curator pasted
    expat.py      feedparser's XML reader, with expat's text buffering on (same result, faster)
    parse.py      bytes → ParsedFeed (feedparser on bytes only; entity declarations refused)
    entries.py    one entry → ParsedEntry (key, address, dates, text)
    sanitise.py   entry HTML made safe (nh3), HTML → plain text
    store.py      upsert entries as resources by (feed, entry key) and canonical address
    schedule.py   claim due feeds, back off failing ones, adapt the interval
    poll.py       one poll end to end (fetch → parse → store → schedule); several at once
    opml.py       OPML subscription lists in and out (defusedxml)
    services.py   writes from outside the poller: add, queue a poll, trust, OPML import
    tasks.py      Celery tasks (thin: ids in, one service call)

address … sanitise are free of Django; store onwards use the ORM.
"""
