"""Write the report notebooks (without outputs) from the cell lists below.

The .ipynb files in notebooks/ are the committed source; this script is how they were laid out
and can re-create them after a structural edit: ``python tools/make_notebooks.py``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat as nbf

ROOT = Path(__file__).resolve().parents[1]


def md(text: str):
    return nbf.v4.new_markdown_cell(text.strip())


def code(text: str, tags: list[str] | None = None):
    c = nbf.v4.new_code_cell(text.strip())
    if tags:
        c.metadata["tags"] = tags
    return c


def write(name: str, cells: list) -> None:
    nb = nbf.v4.new_notebook()
    nb.cells = cells
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                  "language": "python"},
                   "language_info": {"name": "python"}}
    for i, c in enumerate(nb.cells):
        c.id = f"{name[:2]}-{i:02d}"
    nbf.write(nb, ROOT / "notebooks" / f"{name}.ipynb")


SETUP = """
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from helpers import charts, report
"""

write("00_data_overview", [
    md("# Data overview\n\nWhat the dataset holds for this area: practices, patients and "
       "referrals, and which parts are real."),
    code('''
data_source = "synthetic:england"
commissioner = "ENGLAND"
publish = False
results_path = ""
''', ["parameters"]),
    code(SETUP + '''from helpers import overview

ctx = report.start("00_data_overview", dict(data_source=data_source, commissioner=commissioner,
                                            publish=publish, results_path=results_path))
display(Markdown(f"**Area:** {ctx.area_name} · **Data:** {ctx.source_line}"))
display(Markdown(ctx.data_statement()))
'''),
    md("## Headline"),
    code('''h = overview.headline(ctx)
display(Markdown(overview.headline_text(ctx, h)))'''),
    md("## Tables in the dataset\n\nRows for this area in each table of the data contract."),
    code("overview.summary(ctx)"),
    md("## Practice sizes\n\nMost practices have a few thousand to fifteen thousand patients; "
       "a long tail of large practices is typical of England."),
    code("overview.list_size_chart(ctx);"),
    md("## Referrals over time\n\nMonthly totals dip in August and December every year; "
       "notebook 01 adjusts for list size, age and sex before comparing practices."),
    code("overview.monthly_chart(ctx);"),
    code('report.write_results(ctx, {"headline": h});', ["remove-cell"]),
])

write("01_referral_variation", [
    md("# Referral variation\n\nOur practices' referral rates differ several-fold. How much of "
       "that is age, sex, deprivation and chance; which practices and specialties stand out "
       "beyond it; is it changing; and what would bringing the outliers in be worth?"),
    code('''
data_source = "synthetic:england"
commissioner = "ENGLAND"
years = []
specialty = "ALL"
comparator = "england"
standardise = "age_sex"
limit = 99.8
overdispersion = "robust"
publish = False
results_path = ""
''', ["parameters"]),
    code(SETUP + '''from helpers import referral_report as rr

ctx = report.start("01_referral_variation", dict(
    data_source=data_source, commissioner=commissioner, years=years, specialty=specialty,
    comparator=comparator, standardise=standardise, limit=limit,
    overdispersion=overdispersion, publish=publish, results_path=results_path))
an = rr.analyse(ctx)
h = rr.headline(ctx, an)
display(Markdown(f"**Area:** {ctx.area_name} · **Specialty:** {specialty} · "
                 f"**Comparator:** {comparator} · **Data:** {ctx.source_line}"))
display(Markdown(ctx.data_statement()))
'''),
    md("## Headline findings"),
    code("display(Markdown(rr.headline_text(ctx, an, h)))"),
    md("## Crude and standardised rates\n\nA practice with many older patients will refer "
       "more. Standardising compares each practice with what England's rates by age and sex "
       "would predict for its own patients, so the remaining differences are about the "
       "practice, not its population."),
    code('''charts.scatter_chart(an.area["crude_rate"], an.area["standardised_rate"],
                     f"Crude against standardised referral rate, {ctx.area_name}",
                     "Crude rate (referrals per 1,000 patients per year)",
                     "Standardised rate (per 1,000 patients per year)", ctx.source_line);'''),
    md("## Funnel plot: which practices stand out\n\nEach dot is a practice. Small practices "
       "scatter more by chance, so the limits widen to the left. Limits are widened for the "
       "normal spread between practices (over-dispersion), so a practice outside the 99.8% "
       "limits is unusual even among practices — worth a closer look, not a verdict."),
    code('''pts = an.area.rename(columns={"practice_code": "group", "expected": "denominator",
                               "ratio": "rr"})
charts.funnel_chart(pts, an.curve, f"Referral ratio by practice, {ctx.area_name}",
                    ctx.source_line);'''),
    code("rr.outlier_table(ctx, an)"),
    md("## Ranked practices with their uncertainty\n\nThe same ratios ranked, each with its "
       "95% interval. Red practices refer significantly more than expected, orange less."),
    code('''charts.caterpillar_chart(an.area, f"Practices ranked by referral ratio, {ctx.area_name}",
                         ctx.source_line);'''),
    md("## How much of the variation is real\n\nA multilevel model splits the variation in "
       "referral ratios between chance, the commissioner, the network and the practice, and "
       "shows how much deprivation, list size and chronic disease explain."),
    code("display(Markdown(rr.partition_text(an)))\nrr.partition_table(an)"),
    md("## Which specialties drive the variation"),
    code('''sp = an.specialties.head(12)
charts.bar_chart(sp["specialty_name"], sp["excess_above_limit"],
                 f"Referrals above the upper limit by specialty, {ctx.area_name}",
                 "Referrals above the 99.8% limit (count)", "Specialty", ctx.source_line);'''),
    code('''from helpers import sdc
sdc.protect(an.specialties[["specialty_name", "observed", "ratio", "n_high", "n_low",
                            "sd_beyond_chance", "excess_above_limit"]],
            ["observed", "excess_above_limit", "n_high", "n_low"],
            {"observed": ["ratio"]}, ctx.publish).round(3)'''),
    md("## Is it changing? (statistical process control)\n\nMonthly standardised referral rate "
       "with process limits. Points marked as special cause follow the NHS Making Data Count "
       "rules: outside the limits, a run of seven rising or falling, two of three near a limit, "
       "or seven on one side of the mean."),
    code('''charts.spc_chart(an.spc_points, f"Monthly standardised referral rate, {ctx.area_name}",
                 ctx.source_line,
                 "Observed / expected" if an.extras["series_is_ratio"]
                 else "Standardised referrals per 1,000 patients per year");
display(Markdown(f"Latest variation type: **{an.spc_summary['variation_type'].iloc[-1].replace('_', ' ')}**."))'''),
    md("## Opportunity\n\nReferrals, and their value at tariff prices, if practices above the "
       "upper limit came down to it, or every practice above the median came to the median. "
       "Whether money is actually saved depends on the hospital contract (notebook 03)."),
    code('''opp = an.area.sort_values("excess_to_limit", ascending=False).head(15)
sdc.protect(opp[["practice_code", "practice_name", "observed", "ratio", "excess_to_limit",
                 "saving_to_limit_gbp", "excess_to_median", "saving_to_median_gbp"]],
            ["observed", "excess_to_limit", "excess_to_median"],
            {"observed": ["ratio"], "excess_to_limit": ["saving_to_limit_gbp"],
             "excess_to_median": ["saving_to_median_gbp"]}, ctx.publish).round(2)'''),
    md("""## Methods and caveats

- **Standardisation**: indirect, by sex and 5-year age band against national rates
  (optionally also deprivation quintile); intervals are exact Poisson below 10 events and
  Byar's above (PHE conventions).
- **Funnel limits**: Spiegelhalter (2005) on the log scale. Over-dispersion is estimated
  from the middle 80% of practices; the default "robust" option corrects that trimmed estimate
  for the trimming, because the uncorrected (FunnelPlotR) estimate is biased low when
  practices genuinely differ a lot and then flags too many ordinary practices.
- **Variance partition**: nested random intercepts (commissioner, network, practice) on the
  log standardised ratio, with the Poisson sampling variance as the chance component.
- **Opportunity** assumes referrals avoided are truly avoidable; the funnel says where to look,
  not why. Data quality (coding, list inflation) explains some outliers.
- In publish mode, counts of 1–7 are suppressed and other counts rounded to the nearest 5."""),
    md("## Validation against the known truth\n\nOn synthetic data the true effects are "
       "recorded, so the analysis can show it recovers them."),
    code('''v = rr.validation_table(ctx, an)
v if v is not None else display(Markdown("Real data: no recorded truth to compare with."))'''),
    code("report.write_results(ctx, rr.results(ctx, an, h));", ["remove-cell"]),
])
write("02_federation_scale", [
    md("# Federation scale effects\n\nPractices are grouping into federations and networks to "
       "work at scale. Do larger practices and groups refer, cost or perform differently; what "
       "does joining a group change; and does the size of the group matter?"),
    code('''
data_source = "synthetic:england"
commissioner = "ENGLAND"
outcome = "srr"
group_type = "all"
estimator = "callaway_santanna"
control_group = "never_treated"
publish = False
results_path = ""
''', ["parameters"]),
    code(SETUP + '''from helpers import scale_report as sr
from helpers.scale import OUTCOMES

ctx = report.start("02_federation_scale", dict(
    data_source=data_source, commissioner=commissioner, outcome=outcome, group_type=group_type,
    estimator=estimator, control_group=control_group, publish=publish,
    results_path=results_path))
an = sr.analyse(ctx)
display(Markdown(f"**Area:** {ctx.area_name} · **Outcome:** {OUTCOMES[outcome][0]} · "
                 f"**Data:** {ctx.source_line}"))
display(Markdown(ctx.data_statement()))
'''),
    md("## Headline"),
    code("display(Markdown(sr.headline_text(ctx, an)))"),
    md("## How practices and groups are sized here\n\nGroups by number of member practices, "
       "with their typical combined list size."),
    code('''from helpers import sdc

sdc.protect(an.group_summary, ["groups"], publish=ctx.publish) if len(an.group_summary) \\
    else display(Markdown("No group membership data for this area."))'''),
    md("### Outcomes by group size (England, latest year)\n\nMean of each outcome, with its "
       "95% interval, by how many practices a practice's group has and by the group's "
       "combined list size."),
    code('''gc = an.group_curves
if len(gc):
    srr = gc[(gc["outcome"] == OUTCOMES["srr"][0]) &
             (gc["group size measure"] == "practices in group")]
    charts.bar_chart(["2-4 practices", "5-8 practices", "9+ practices"][:len(srr)],
                     srr["mean"], "Standardised referral ratio by group size, England",
                     "Mean ratio, observed / expected", "Practices in the group",
                     ctx.source_line)
    display(gc.drop(columns=["sd"]).round(3))'''),
    md("## Size curves\n\nEach outcome against practice list size: the dots are averages "
       "within size bands for this area (with 95% intervals); the line is England's curve "
       "adjusted for deprivation, rurality and year. Elasticities summarise the slope: the "
       "% change in the outcome for a 1% larger list."),
    code('''for y, curve in an.curves.items():
    label, unit = OUTCOMES[y]
    b = an.bins[y]
    fig = charts.lines_chart(curve["x"], {"England, adjusted curve": curve["fit"],
                                          "95% interval": curve["lower"],
                                          "": curve["upper"]},
                             f"{label} by practice list size, {ctx.area_name}",
                             "Registered patients (log scale)", unit, ctx.source_line)
    ax = fig.axes[0]
    ax.set_xscale("log")
    ax.errorbar(b["x_mid"], b["mean"], yerr=[b["mean"] - b["lower"], b["upper"] - b["mean"]],
                fmt="o", color=charts.DARK, ms=4, label="Area, banded means")
    ax.legend(fontsize=8)
sr.elasticity_table(an)'''),
    md("## What joining a group changed\n\nPractices joined groups at different times. The "
       "event study compares each joining practice with practices that had not (yet) joined, "
       "quarter by quarter around joining (Callaway & Sant'Anna). Estimates before joining "
       "should sit near zero; the shaded band covers all quarters at once with 95% confidence."),
    code('''if an.joining:
    es = an.joining["event_study"].rename(columns={"event_quarter": "event_month"})
    t = an.truth_att["by_event"] if an.truth_att else None
    fig = charts.event_study_chart(
        es.assign(lower=es["band_lower"], upper=es["band_upper"]),
        f"Change in {OUTCOMES[outcome][0].lower()} after joining a group",
        ctx.source_line, "Effect (log ratio vs comparison practices)")
    fig.axes[0].set_xlabel("Periods since joining (quarters; years for yearly outcomes)")
    if t is not None:
        fig.axes[0].plot(t.index, t.values, color=charts.RED, ls="--", lw=1,
                         label="True effect (synthetic)")
        fig.axes[0].legend(fontsize=8)
    tw = an.twfe
    display(Markdown(
        f"Overall effect: **{an.joining['att']:+.4f}** (log scale; 95% CI "
        f"{an.joining['lower']:+.4f} to {an.joining['upper']:+.4f}). Two-way fixed effects: "
        f"**{tw['att']:+.4f}** ({tw['lower']:+.4f} to {tw['upper']:+.4f}). Pre-trend check "
        f"(simultaneous band covers zero before joining): "
        f"**{'passed' if an.joining['no_pretrend_by_band'] else 'failed'}**."))
else:
    display(Markdown("No practices joined a group in this data."))'''),
    md("## Does group size matter?\n\nThe joining effect separately for groups of 2–4, 5–8 "
       "and 9 or more practices, and for small, medium and large practices."),
    code('''if len(an.bands):
    charts.bar_chart(an.bands["size_band"], (np.exp(an.bands["att"]) - 1) * 100,
                     "Effect of joining by group size", "Change after joining (%)",
                     "Practices in the group", ctx.source_line)
    display(an.bands.round(4))
if len(an.practice_sizes):
    display(an.practice_sizes.round(4))'''),
    md("## Mergers\n\nPractices that absorbed a closing practice, against three matched "
       "practices in the same commissioner with similar list sizes: change in the "
       "standardised referral ratio from the year before to the year after."),
    code('''m = an.mergers
display(Markdown(f"Across England, {m['n_mergers']} mergers; difference in change (log scale): "
                 f"**{m['effect']:+.4f}** (95% bootstrap interval {m['lower']:+.4f} to "
                 f"{m['upper']:+.4f})." if m["n_mergers"] else "No mergers to compare."))'''),
    md("""## Methods and caveats

- **Size curves**: OLS of the outcome on a natural cubic spline of log list size with
  deprivation, rurality and year, errors clustered by commissioner; elasticities from log–log
  regressions. Cross-sectional: size goes with many unmeasured things.
- **Joining**: Callaway & Sant'Anna (2021) group-time effects on the log standardised
  referral ratio, doubly robust, never-joined (or not-yet-joined) practices as comparison,
  analytic standard errors, multiplier-bootstrap simultaneous bands. Two-way fixed effects is
  shown because it is what most evaluations report; with effects that build up over time and
  staggered joining it is biased.
- **Mergers**: a simple matched before/after comparison, not a causal design."""),
    md("## Validation against the known truth"),
    code('''v = sr.validation_table(ctx, an)
v if v is not None else display(Markdown("Real data: no recorded truth to compare with."))'''),
    code("report.write_results(ctx, sr.results(ctx, an));", ["remove-cell"]),
])

write("03_contract_forms", [
    md("# Contract forms: what cutting referrals saves, and who carries the risk\n\n"
       "Under payment by results a commissioner pays for each attendance; under a block "
       "contract it pays the same whatever happens. This report shows what a change in GP "
       "referrals would save under each contract form, who carries the risk of demand "
       "moving, and what happened to hospital activity when commissioners switched form."),
    code('''
data_source = "synthetic:england"
commissioner = "ENGLAND"
provider = "ALL"
forms = ["pbr", "block", "blended", "cap_collar", "api", "cost_volume"]
change_pct = -10.0
start_month = 10
specialties = []
outliers_only = False
year = 0
window_months = 24
publish = False
results_path = ""
''', ["parameters"]),
    code(SETUP + '''from helpers import contract_report as cr

ctx = report.start("03_contract_forms", dict(
    data_source=data_source, commissioner=commissioner, provider=provider, forms=forms,
    change_pct=change_pct, start_month=start_month, specialties=specialties,
    outliers_only=outliers_only, year=year, window_months=window_months, publish=publish,
    results_path=results_path))
an = cr.analyse(ctx)
display(Markdown(f"**Area:** {ctx.area_name} · **Provider:** {provider} · **Year:** "
                 f"{an.year}/{str(an.year + 1)[-2:]} · **Data:** {ctx.source_line}"))
display(Markdown(ctx.data_statement()))
'''),
    md("## Headline"),
    code("display(Markdown(cr.headline_text(ctx, an)))\ncr.headline_table(an).set_index("
         "'Contract form')"),
    md("## How each form pays\n\nPayment as activity moves away from plan. Payment by "
       "results tracks activity one for one; a block is flat; blended and aligned-payment "
       "contracts pay a share of price for activity off plan; cap and collar is flat within a "
       "corridor. The flatter the line, the less a commissioner saves from fewer referrals — "
       "and the less it pays for more."),
    code('''from helpers.contracts import FORM_LABELS
c = an.curves
charts.lines_chart(c["activity_share_of_plan"] * 100,
                   {FORM_LABELS[f]: c[f] * 100 for f in forms if f in c},
                   f"Payment against activity by contract form, {ctx.area_name}",
                   "Activity (% of plan)", "Payment (% of planned value)", ctx.source_line);'''),
    md("## The what-if: in-year and full-year\n\nThe change starts in the chosen month, so "
       "the in-year effect covers only the months to March. First attendances follow "
       "referrals; follow-ups follow first attendances at each specialty's ratio."),
    code('''w = an.whatif
charts.bar_chart(w.label + " (" + w.span + ")",
                 w.commissioner_saving_gbp / 1e3,
                 f"Commissioner saving from a {change_pct:+g}% referral change, {ctx.area_name}",
                 "Saving to the commissioner (£ thousands)", "Contract form", ctx.source_line);
cr.whatif_table(an)'''),
    md("### Sensitivity\n\nFull-year saving (£) by size of the change and by how many "
       "follow-ups each first attendance brings (scale on the observed ratios)."),
    code("an.sensitivity.round(0)"),
    md("## Who carries the risk\n\nDemand is uncertain. Simulating the year from the "
       "observed month-to-month variation in activity shows how much the commissioner's spend "
       "and the provider's margin could swing under each form. Risk does not disappear; the "
       "contract decides who holds it."),
    code('''r = an.risk
charts.bar_chart(r.label, r.commissioner_share_of_risk * 100,
                 f"Commissioner's share of demand risk by contract form, {ctx.area_name}",
                 "Share of the spread carried by the commissioner (%)", "Contract form",
                 ctx.source_line);
cr.risk_table(an)'''),
    md("## What switching form did\n\nCommissioners that moved from payment by results to a "
       "block or blended contract, compared with those that did not (staggered "
       "difference-in-differences, Callaway & Sant'Anna), and, for this commissioner if it "
       "switched, an interrupted time series of its own activity."),
    code('''display(Markdown(cr.did_text(an))) if cr.did_text(an) else None
display(cr.did_table(an)) if an.did else None
truth = ctx.ds.truth["contract_switches"] if ctx.ds.truth else None
for d in an.did:
    if d["outcome"] != "firsts":
        continue
    t = truth["effect_firsts_per_referral"][d["to_form"]] if truth else None
    charts.event_study_chart(d["event_study"],
                             f"First attendances per referral after switching to {d['to_form']}",
                             ctx.source_line, "Effect (log ratio vs comparison)", t)'''),
    code('''shown = [r for r in an.its if r["outcome"] == "firsts"][:3]
for r in shown:
    charts.its_chart(r["series"], r["month"],
                     f"{r['commissioner_code']}: first attendances per referral around the "
                     f"switch to {r['to_form']}", ctx.source_line,
                     "First attendances per GP referral (ratio)")
if not shown:
    display(Markdown("This commissioner did not change contract form in the period; the "
                     "national comparison above shows what switching did elsewhere."))
else:
    display(pd.DataFrame([{k: r[k] for k in ("commissioner_code", "to_form", "outcome",
                                             "rate_ratio", "ci_low", "ci_high")}
                          for r in an.its]).round(4))'''),
    md("""## Methods and caveats

- **Payment engine**: each form's payment from plan, prices and activity, with published
  parameters (blended 20% variable, API 75% above plan, cap and collar ±5%). The plan is the
  baseline year's activity at its own prices.
- **What-if** assumes first attendances move one for one with referrals and follow-ups with
  first attendances; providers may respond (for example by filling freed capacity), which
  this mechanical model does not include.
- **Risk** simulates independent monthly shocks with the observed spread, including seasonal
  swings; it shows who holds the risk, not a forecast.
- **Switch evaluation**: staggered difference-in-differences on the log ratio (doubly
  robust, never-switching commissioners as controls, analytic standard errors); with few
  switchers per cohort, intervals rest on few commissioners. Interrupted time series:
  quasi-Poisson with seasonal harmonics and Newey–West errors."""),
    md("## Validation against the known truth"),
    code('''v = cr.validation_table(ctx, an)
v if v is not None else display(Markdown("Real data: no recorded truth to compare with."))'''),
    code("report.write_results(ctx, cr.results(ctx, an));", ["remove-cell"]),
])
# keep the committed notebooks as lint-clean as the rest of the code
subprocess.run([sys.executable, "-m", "ruff", "check", "--fix", "--quiet",
                str(ROOT / "notebooks")], check=False)
print("notebooks written")
