from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from recommender import selectors
from recommender.engine import fit
from recommender.evaluation import (
    FILL_MINUTES,
    MID_PATH_STEPS,
    evaluate,
    format_markdown,
    format_table,
)


class Command(BaseCommand):
    help = (
        "Evaluate the TF-IDF recommender against baselines (its previous rules, path order then "
        "focus, path order, popularity, random) on the approved catalog and its learning path: "
        "path replay (hit@3, MRR), focus precision@5 for new and mid-path learners with the "
        "path's hit@3 on the same lists, queue fill, coverage, diversity and path-rule "
        "violations, in one run."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--seed", type=int, default=0, help="Seed of the random baseline.")
        parser.add_argument("--limit", type=int, default=10, help="Length of each list.")
        parser.add_argument("--markdown", action="store_true", help="Print a Markdown table.")

    def handle(self, *args: Any, **options: Any) -> None:
        documents = selectors.engine_documents()
        if not documents:
            raise CommandError("No approved resources: load the seed catalog first.")
        path = [
            d.id for d in sorted(documents, key=lambda d: d.path_position or 0) if d.path_position
        ]
        if not path:
            raise CommandError("The catalog has no learning path to replay.")
        model = fit(documents)
        rows = evaluate(model, path, limit=options["limit"], seed=options["seed"])
        steps = ", ".join(str(k) for k in MID_PATH_STEPS if k < len(path))
        self.stdout.write(
            f"{len(documents)} approved resources, a path of {len(path)} steps, "
            f"{len(model.area_rows)} security areas with resources; mid-path learners after "
            f"{steps} steps; lists of {options['limit']}, budgets of {FILL_MINUTES} minutes.\n"
        )
        self.stdout.write(format_markdown(rows) if options["markdown"] else format_table(rows))
        baselines = [row for row in rows if row["recommender"] != "engine"]
        best_row = max(baselines, key=lambda row: row["combined"])
        best_name, best = best_row["recommender"], best_row["combined"]
        engine = next(row for row in rows if row["recommender"] == "engine")
        verdict = "beats" if engine["combined"] > best else "does NOT beat"
        self.stdout.write(
            f"\nThe engine {verdict} every baseline on the combined score "
            f"({engine['combined']:.3f} vs best baseline {best_name} {best:.3f}); "
            f"prerequisite violations: {engine['violations']}, "
            f"path-order violations: {engine['order_violations']}."
        )
