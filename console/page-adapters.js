// Adapters: each connection's state, its last error with the fix, and how often it reconnected.
import { cell, h, replace, table } from "./console-dom.js";

/** Creates the Adapters page in `root`. */
export function adaptersPage(root, { state }) {
  const grid = table("Adapters", ["Adapter", "Kind", "State", "Reconnections", "Last error", "Fix"], "grid adapters");

  function paint() {
    replace(
      grid.body,
      state.adapters.map((adapter) =>
        h(
          "tr",
          { data: { adapter: adapter.name, state: adapter.state } },
          h("th", { attrs: { scope: "row" }, data: { label: "Adapter" }, text: adapter.name }),
          cell("Kind", adapter.kind),
          cell("State", h("span", { class: `state ${adapter.state}`, text: adapter.state })),
          cell("Reconnections", String(adapter.reconnections)),
          cell("Last error", adapter.lastError ?? "—"),
          cell("Fix", adapter.fix ?? ""),
        ),
      ),
    );
  }

  replace(root, h("h1", { text: "Adapters" }), grid.element);
  paint();
  return {
    update(type) {
      if (type === "adapters") paint();
    },
  };
}
