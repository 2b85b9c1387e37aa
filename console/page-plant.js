// Plant: every tag with its value, unit, quality (and why), age, STALE, and a small trend; live, filterable.
import { cell, formatDuration, formatValue, h, replace, sparkline, table } from "./console-dom.js";

/** Creates the Plant page in `root`. */
export function plantPage(root, { state }) {
  const filter = h("input", {
    id: "plant-filter",
    type: "search",
    placeholder: "name, unit or description",
    autocomplete: "off",
  });
  const quality = h(
    "select",
    { id: "plant-quality" },
    ["all", "good", "uncertain", "bad", "stale"].map((value) =>
      h("option", { value, text: value === "all" ? "any quality" : value }),
    ),
  );
  const shown = h("p", { class: "hint", attrs: { "aria-live": "polite" } });
  const grid = table("Tags, with their latest values", ["Tag", "Value", "Quality", "Age", "Trend"], "grid plant");
  const rows = new Map();

  for (const tag of state.site.tags) {
    const value = h("span", { class: "value" });
    const qualityCell = cell("Quality");
    const age = cell("Age");
    const trend = cell("Trend");
    const row = h(
      "tr",
      { data: { tag: tag.name } },
      h(
        "th",
        { attrs: { scope: "row" }, data: { label: "Tag" } },
        h("span", { class: "tag-name", text: tag.name }),
        tag.description ? h("span", { class: "description", text: tag.description }) : null,
      ),
      cell("Value", value),
      qualityCell,
      age,
      trend,
    );
    rows.set(tag.name, { tag, row, value, qualityCell, age, trend, trendAt: 0 });
    grid.body.append(row);
  }

  function paintSample(name) {
    const entry = rows.get(name);
    const sample = state.samples.get(name);
    if (!entry) return;
    if (!sample) {
      entry.value.textContent = "—";
      replace(entry.qualityCell, h("span", { class: "quality unknown", text: "no value yet" }));
      return;
    }
    entry.value.textContent = formatValue(sample.value, entry.tag.unit);
    // The sample's time, for anyone measuring how long a value takes to reach the screen.
    entry.value.dataset.time = String(sample.time);
    entry.row.dataset.quality = sample.quality;
    entry.row.dataset.stale = String(Boolean(sample.stale));
    const why = [sample.reason, sample.detail].filter(Boolean).join(": ");
    replace(
      entry.qualityCell,
      h("span", { class: `quality ${sample.quality}`, text: sample.quality }),
      sample.stale ? h("span", { class: "badge stale", text: "STALE" }) : null,
      why ? h("span", { class: "reason", text: why }) : null,
    );
    paintAge(entry, sample);
  }

  function paintAge(entry, sample) {
    if (!sample) return;
    const age = sample.ageMs + (Date.now() - sample.received);
    entry.age.textContent = formatDuration(age);
  }

  function paintTrend(name, force = false) {
    const entry = rows.get(name);
    if (!entry || (entry.tag.type !== "float" && entry.tag.type !== "integer")) return;
    // Redrawn at most once a second per tag: a busy tag must not make the page repaint on every sample.
    const now = Date.now();
    if (!force && now - entry.trendAt < 1000) return;
    entry.trendAt = now;
    replace(entry.trend, sparkline(state.history.get(name) ?? [], `${name}, last 10 minutes`));
  }

  function applyFilter() {
    const words = filter.value.trim().toLowerCase();
    const wanted = quality.value;
    let count = 0;
    for (const { tag, row } of rows.values()) {
      const sample = state.samples.get(tag.name);
      const text = `${tag.name} ${tag.unit ?? ""} ${tag.description ?? ""}`.toLowerCase();
      const qualityMatches =
        wanted === "all" || (wanted === "stale" ? Boolean(sample?.stale) : sample?.quality === wanted);
      const visible = (!words || text.includes(words)) && qualityMatches;
      row.hidden = !visible;
      if (visible) count++;
    }
    shown.textContent = `${count} of ${rows.size} tags shown`;
  }

  filter.addEventListener("input", applyFilter);
  quality.addEventListener("change", applyFilter);
  for (const name of rows.keys()) {
    paintSample(name);
    paintTrend(name, true);
  }
  applyFilter();

  replace(
    root,
    h("h1", { text: "Plant" }),
    h(
      "form",
      {
        class: "filters",
        attrs: { role: "search", "aria-label": "Filter tags" },
        on: { submit: (e) => e.preventDefault() },
      },
      h("p", {}, h("label", { htmlFor: "plant-filter", text: "Filter" }), filter),
      h("p", {}, h("label", { htmlFor: "plant-quality", text: "Quality" }), quality),
    ),
    shown,
    h("div", { class: "table-scroll" }, grid.element),
  );

  return {
    update(type, data) {
      if (type !== "sample") return;
      paintSample(data.tag);
      paintTrend(data.tag);
    },
    tick() {
      for (const entry of rows.values()) paintAge(entry, state.samples.get(entry.tag.name));
    },
  };
}
