"""Deterministic NDJSON batches shaped like the producers' order events, for the Glue job benchmark."""
from __future__ import annotations

import json
import os
import random

CITIES = ["Berlin", "München", "Zürich", "Lyon", "Kraków", "São Paulo", "Åre", "Reykjavík", "東京", "Москва"]
NAMES = ["Zoë Müller", "José Álvarez", "Anna Kowalska", "Li Wei", "Ólafur Jónsson", "Amélie Dubois", "Ana 🙂 Silva"]
METHODS = ["standard", "express", "pickup", "locker"]
STATUSES = ["created", "paid", "shipped", "cancelled"]
CHANNELS = ["web", "ios", "android", "pos"]
TAGS = ["gift", "b2b", "promo", "first-order", "vip", "returning", "bulk"]
COLORS = ["red", "blue", "black", "white", "green", None]
SIZES = ["XS", "S", "M", "L", "XL"]


def _record(rng: random.Random, file_index: int, n: int) -> dict:
    items = []
    for k in range(rng.randint(1, 6)):
        items.append({
            "sku": f"SKU-{rng.randint(10000, 99999)}",
            "name": rng.choice(["T-shirt", "Hoodie", "Cap", "Sneaker", "Mug \u2615", "Poster"]),
            "qty": rng.randint(1, 5),
            "unitPrice": round(rng.uniform(2, 250), 2),
            "attributes": {"color": rng.choice(COLORS), "size": rng.choice(SIZES)},
            "line": k + 1,
        })
    total = round(sum(i["qty"] * i["unitPrice"] for i in items), 2)
    return {
        "eventId": f"{file_index:04d}-{n:07d}-{rng.getrandbits(48):012x}",
        "eventType": "order." + rng.choice(STATUSES),
        "occurredAt": f"2026-11-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:"
                      f"{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}Z",
        "order": {
            "id": f"ORD-{rng.getrandbits(40):010x}",
            "status": rng.choice(STATUSES),
            "channel": rng.choice(CHANNELS),
            "currency": rng.choice(["EUR", "USD", "GBP", "CHF"]),
            "total": total,
            "discount": None if rng.random() < 0.7 else round(total * 0.1, 2),
            "items": items,
            "shipping": {
                "method": rng.choice(METHODS),
                "address": {
                    "line1": f"{rng.randint(1, 200)} Hauptstraße",
                    "city": rng.choice(CITIES),
                    "postcode": f"{rng.randint(10000, 99999)}",
                    "country": rng.choice(["DE", "FR", "CH", "PL", "BR", "IS", "JP"]),
                    "geo": {"lat": round(rng.uniform(-60, 70), 6), "lon": round(rng.uniform(-120, 150), 6)},
                },
            },
        },
        "customer": {
            "id": rng.randint(1, 5_000_000),
            "email": f"user{rng.randint(1, 10_000_000)}@example.com",
            "name": rng.choice(NAMES),
            "tier": rng.choice(["bronze", "silver", "gold"]),
            "marketingOptIn": rng.random() < 0.4,
        },
        "tags": rng.sample(TAGS, rng.randint(0, 3)),
        "source": {"app": rng.choice(CHANNELS), "version": f"3.{rng.randint(0, 9)}.{rng.randint(0, 20)}",
                   "ip": f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}"},
        "notes": None if rng.random() < 0.8
        else rng.choice(["leave at door \u00e9", "call first \U0001F4DE", "fragile"]),
    }


def _bad_line(rng: random.Random, good: str) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return good[: rng.randint(1, len(good) - 2)]  # truncated record
    if kind == 1:
        return "<html><body>502 Bad Gateway</body></html>"  # not JSON
    if kind == 2:
        return "[" + good + "]"  # an array, not an object
    return str(rng.randint(0, 10**9))  # a bare number


def write_file(path: str, file_index: int, target_bytes: int, seed: int, bad_ratio: float) -> dict:
    """Writes one NDJSON file of about target_bytes; returns its counts."""
    rng = random.Random(seed * 1_000_003 + file_index)
    written = lines = bad = blank = 0
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        while written < target_bytes:
            line = json.dumps(_record(rng, file_index, lines), ensure_ascii=rng.random() < 0.1,
                              separators=(",", ":"))
            r = rng.random()
            if r < bad_ratio:
                line = _bad_line(rng, line)
                bad += 1
            elif r < bad_ratio * 1.3:
                line = ""
                blank += 1
            f.write(line + "\n")
            written += len(line.encode("utf-8")) + 1
            lines += 1
    return {"lines": lines, "bad": bad, "blank": blank, "bytes": os.path.getsize(path)}


def ensure_batch(root: str, files: int, size_mb: float, seed: int = 42, bad_ratio: float = 0.001) -> dict:
    """Creates the batch once under root (reused when present); returns its directory, paths and counts."""
    directory = os.path.join(root, f"ndjson-{files}x{size_mb:g}mb-seed{seed}")
    marker = os.path.join(directory, "_counts.json")
    if os.path.exists(marker):
        with open(marker, encoding="utf-8") as f:
            return json.load(f)
    os.makedirs(directory, exist_ok=True)
    totals = {"lines": 0, "bad": 0, "blank": 0, "bytes": 0}
    paths = []
    for i in range(files):
        path = os.path.join(directory, f"part-{i:04d}.ndjson")
        counts = write_file(path, i, int(size_mb * 1024 * 1024), seed, bad_ratio)
        for k in totals:
            totals[k] += counts[k]
        paths.append(path)
    batch = {"directory": directory, "paths": paths, **totals}
    with open(marker, "w", encoding="utf-8") as f:
        json.dump(batch, f)
    return batch
