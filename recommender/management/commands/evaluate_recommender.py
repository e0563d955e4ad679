from django.core.management.base import BaseCommand, CommandError

from recommender import selectors
from recommender.engine import fit
from recommender.evaluation import evaluate, format_table


class Command(BaseCommand):
    help = (
        "Evaluate the TF-IDF recommender against baselines (random, popularity, path order) "
        "on the approved catalog and its learning path: path replay (hit@3, MRR), focus "
        "precision@5, coverage, diversity and prerequisite violations, in one run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=0, help="Seed of the random baseline.")
        parser.add_argument("--limit", type=int, default=10, help="Length of each list.")
        parser.add_argument("--markdown", action="store_true", help="Print a Markdown table.")

    def handle(self, *args, **options):
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
        self.stdout.write(
            f"{len(documents)} approved resources, a path of {len(path)} steps, "
            f"{len(model.area_rows)} security areas with resources.\n"
        )
        self.stdout.write(_markdown(rows) if options["markdown"] else format_table(rows))
        best_baseline = max(row["combined"] for row in rows if row["recommender"] != "engine")
        engine = next(row for row in rows if row["recommender"] == "engine")
        verdict = "beats" if engine["combined"] > best_baseline else "does NOT beat"
        self.stdout.write(
            f"\nThe engine {verdict} every baseline on the combined score "
            f"({engine['combined']:.3f} vs best baseline {best_baseline:.3f}); "
            f"prerequisite violations: {engine['violations']}."
        )


def _markdown(rows) -> str:
    keys = [
        "hit@3",
        "mrr",
        "precision@5",
        "coverage",
        "diversity",
        "violations",
        "strict_violations",
        "combined",
    ]
    lines = ["| recommender | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for row in rows:
        cells = [f"{row[k]:.3f}" if isinstance(row[k], float) else str(row[k]) for k in keys]
        lines.append(f"| {row['recommender']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
