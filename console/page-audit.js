// Audit: the guard's records, filtered by type, tag, person and time, with the hash chain's check and its result.
import { get, query } from "./console-api.js";
import { cell, h, replace, table, timeElement } from "./console-dom.js";

const recordTypes = ["proposal", "decision", "attempt", "outcome", "recovery", "rejection", "note"];
const shownApart = new Set(["seq", "time", "type", "tag", "by", "identity", "prevHash", "hash", "chain"]);

/** Who a record names: the deciding person, or the identity the guard recorded. */
function personOf(record) {
  if (typeof record.by === "string") return record.by;
  const identity = record.identity;
  if (identity && typeof identity === "object") return identity.login ?? identity.user ?? identity.osUser ?? "";
  if (typeof record.user === "string") return record.user;
  return typeof record.person === "string" ? record.person : "";
}

function details(record) {
  return Object.entries(record)
    .filter(([key]) => !shownApart.has(key))
    .map(([key, value]) => {
      const text = typeof value === "string" ? value : JSON.stringify(value);
      return `${key}: ${text.length > 160 ? `${text.slice(0, 160)}…` : text}`;
    })
    .join(" · ");
}

function field(id, label, control) {
  control.id = id;
  return h("p", {}, h("label", { htmlFor: id, text: label }), control);
}

/** A datetime-local value as ms since the epoch, or undefined when empty. */
function instant(input) {
  return input.value ? new Date(input.value).getTime() : undefined;
}

/** Creates the Audit page in `root`. */
export function auditPage(root, context) {
  const { state } = context;
  const type = h(
    "select",
    {},
    h("option", { value: "", text: "any type" }),
    recordTypes.map((value) => h("option", { value, text: value })),
  );
  const tag = h(
    "select",
    {},
    h("option", { value: "", text: "any tag" }),
    state.site.tags.map((entry) => h("option", { value: entry.name, text: entry.name })),
  );
  const person = h("input", { type: "text", autocomplete: "off" });
  const since = h("input", { type: "datetime-local", step: 1 });
  const until = h("input", { type: "datetime-local", step: 1 });
  const limit = h("input", { type: "number", min: 1, max: 1000, value: "100" });
  const chain = h("p", { id: "audit-chain", class: "chain", attrs: { role: "status" } });
  const error = h("p", { class: "error", attrs: { role: "alert" } });
  const grid = table("Audit records, newest first", ["#", "Time", "Type", "Tag", "Person", "Details"], "grid audit");
  let filters = {};

  function row(record) {
    return h(
      "tr",
      { data: { seq: String(record.seq), type: record.type } },
      h("th", { attrs: { scope: "row" }, data: { label: "#" }, text: String(record.seq) }),
      cell("Time", timeElement(record.time)),
      cell("Type", record.type),
      cell("Tag", typeof record.tag === "string" ? record.tag : ""),
      cell("Person", h("span", { class: "person", text: personOf(record) })),
      cell("Details", h("span", { class: "details", text: details(record) })),
    );
  }

  function matches(record) {
    const time = new Date(record.time).getTime();
    return (
      (!filters.type || record.type === filters.type) &&
      (!filters.tag || record.tag === filters.tag) &&
      (!filters.person || personOf(record).toLowerCase().includes(filters.person.toLowerCase())) &&
      (!filters.since || time >= filters.since) &&
      (!filters.until || time <= filters.until)
    );
  }

  let asked = 0;

  async function load() {
    // Only the answer to the latest question is shown: an earlier, slower one must not overwrite it.
    const question = ++asked;
    filters = {
      type: type.value,
      tag: tag.value,
      person: person.value.trim(),
      since: instant(since),
      until: instant(until),
      limit: limit.value,
    };
    error.textContent = "";
    chain.textContent = "Checking the chain…";
    try {
      const page = await get(`/api/audit${query(filters)}`);
      if (question !== asked) return;
      const records = [...page.records].sort((a, b) => b.seq - a.seq);
      replace(grid.body, records.map(row));
      chain.className = `chain ${page.chain.ok ? "ok" : "broken"}`;
      chain.textContent = page.chain.ok
        ? `Chain verified: ${page.chain.records} records, unbroken.`
        : `CHAIN BROKEN after ${page.chain.records} records${page.chain.detail ? `: ${page.chain.detail}` : ""}`;
      if (!page.chain.ok) context.announce("The audit chain does not verify", true);
    } catch (failure) {
      if (question !== asked) return;
      chain.textContent = "";
      error.textContent = `The audit could not be read: ${failure.message}`;
    }
  }

  const form = h(
    "form",
    { class: "filters", attrs: { "aria-label": "Filter audit records" } },
    field("audit-type", "Type", type),
    field("audit-tag", "Tag", tag),
    field("audit-person", "Person", person),
    field("audit-since", "From", since),
    field("audit-until", "Until", until),
    field("audit-limit", "At most", limit),
    h("p", {}, h("button", { type: "submit", text: "Show records" })),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });

  replace(root, h("h1", { text: "Audit" }), form, chain, error, grid.element);
  load();

  return {
    update(eventType, record) {
      if (eventType !== "audit" || !matches(record)) return;
      grid.body.prepend(row(record));
      const most = Number(filters.limit) || 100;
      while (grid.body.children.length > most) grid.body.lastElementChild.remove();
    },
  };
}
