// Loops: each loop's state, when it ran and runs next, what triggers it, its model budget, calls and tokens, and its
// last error. Engineers may pause and resume a loop.
import { post } from "./console-api.js";
import { cell, formatValue, h, replace, table, timeElement } from "./console-dom.js";

/** Creates the Loops page in `root`. */
export function loopsPage(root, context) {
  const { state } = context;
  const grid = table(
    "The site's loops",
    ["Loop", "State", "Trigger", "Last run", "Next run", "Budget", "Model calls", "Tokens", "Last error", "Action"],
    "grid loops",
  );
  const error = h("p", { class: "error", attrs: { role: "alert" } });

  async function act(loop, action, button) {
    button.disabled = true;
    error.textContent = "";
    try {
      await post(`/api/loops/${encodeURIComponent(loop.name)}/${action}`);
      context.announce(`Loop ${loop.name} ${action === "pause" ? "paused" : "resumed"}`);
    } catch (failure) {
      error.textContent = `${loop.name}: ${failure.message}${failure.fix ? ` ${failure.fix}` : ""}`;
      button.disabled = false;
    }
  }

  function paint() {
    replace(
      grid.body,
      state.loops.map((loop) => {
        let control = null;
        if (context.can("engineer") && (loop.state === "running" || loop.state === "paused")) {
          const action = loop.state === "running" ? "pause" : "resume";
          control = h("button", {
            type: "button",
            class: "secondary",
            text: action === "pause" ? "Pause" : "Resume",
            attrs: { "aria-label": `${action === "pause" ? "Pause" : "Resume"} ${loop.name}` },
          });
          control.addEventListener("click", () => act(loop, action, control));
        }
        return h(
          "tr",
          { data: { loop: loop.name, state: loop.state } },
          h("th", { attrs: { scope: "row" }, data: { label: "Loop" }, text: loop.name }),
          cell("State", h("span", { class: `state ${loop.state}`, text: loop.state })),
          cell("Trigger", loop.trigger),
          cell("Last run", loop.lastRunAt ? timeElement(loop.lastRunAt) : "—"),
          cell("Next run", loop.nextRunAt ? timeElement(loop.nextRunAt) : "on trigger"),
          cell(
            "Budget",
            loop.budget ? `${formatValue(loop.budget.used)} of ${formatValue(loop.budget.limit)}` : "none",
          ),
          cell("Model calls", String(loop.modelCalls)),
          cell("Tokens", String(loop.tokens)),
          cell("Last error", loop.lastError ?? "—"),
          cell("Action", control ?? ""),
        );
      }),
    );
  }

  replace(
    root,
    h("h1", { text: "Loops" }),
    state.loops.length === 0 ? h("p", { class: "empty", text: "This site runs no loops." }) : null,
    grid.element,
    error,
  );
  paint();
  return {
    update(type) {
      if (type === "loops") paint();
    },
  };
}
