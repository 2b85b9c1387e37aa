// Proposals: what a loop wants to write, everything the guard checked, and the decision. A decision carries the
// digest of the proposal exactly as shown here: if the proposal changes, the card is redrawn and the old digest is
// refused by the guard. The model's reason is untrusted text: textContent only.
import { post } from "./console-api.js";
import { cell, formatDuration, formatValue, h, replace, table, timeElement } from "./console-dom.js";

function detailRow(term, ...description) {
  return [h("dt", { text: term }), h("dd", {}, ...description)];
}

// Who proposed it: a loop and its model, or an outside client (its self-given name, e.g. "mcp:claude-desktop") and
// the person whose token it came with. The client names itself: untrusted text, in spans through textContent.
function originText({ loop, modelId, source, user }) {
  const mcp = source?.startsWith("mcp:");
  return [
    loop ? ["loop ", h("span", { class: "origin-loop", text: loop })] : [],
    modelId ? [" (model ", h("span", { class: "origin-model", text: modelId }), ")"] : [],
    !loop && source ? [mcp ? "assistant " : "", h("span", { class: "origin-source", text: source })] : [],
    !loop && !source ? "a client" : [],
    user ? [" for user ", h("span", { class: "origin-user", text: user })] : [],
  ];
}

function card(proposal, context, decide) {
  const { state } = context;
  const unit = proposal.unit ?? state.tags.get(proposal.tag)?.unit;
  const headingId = `proposal-${proposal.id}-title`;
  const left = h("span", { class: "time-left" });
  const approvals = proposal.approvals ?? [];
  const body = h(
    "article",
    { class: "proposal", data: { id: proposal.id, digest: proposal.digest }, attrs: { "aria-labelledby": headingId } },
    h(
      "h2",
      { id: headingId },
      h("span", { class: "tag-name", text: proposal.tag }),
      " → ",
      h("span", { class: "proposed-value", text: formatValue(proposal.value, unit) }),
    ),
    h(
      "dl",
      { class: "facts" },
      detailRow("Current value", formatValue(proposal.current, unit)),
      proposal.step !== undefined
        ? detailRow("Step", `${proposal.step > 0 ? "+" : ""}${formatValue(proposal.step, unit)}`)
        : [],
      proposal.writeRange
        ? detailRow(
            "Write range",
            `${formatValue(proposal.writeRange.min)} … ${formatValue(proposal.writeRange.max, unit)}`,
          )
        : [],
      detailRow("From", ...originText(proposal.origin ?? {})),
      detailRow("Proposed", timeElement(proposal.createdAt)),
      detailRow("Time left", left),
      detailRow(
        "Approvals",
        `${approvals.length} of ${proposal.approvalsRequired}`,
        approvals.length > 0
          ? h("span", { class: "approved-by", text: ` — first approved by ${approvals[0].by}` })
          : null,
      ),
    ),
    h("h3", { text: "Reason given by the model (untrusted text)" }),
    h("p", { class: "untrusted", text: proposal.reason || "(no reason given)" }),
    h("h3", { text: "Guard checks" }),
    h(
      "ul",
      { class: "verdicts" },
      (proposal.verdicts ?? []).map((verdict) =>
        h(
          "li",
          { class: verdict.passed ? "passed" : "failed" },
          h("span", { class: "verdict-mark", text: verdict.passed ? "passed" : "FAILED" }),
          ` ${verdict.check}: `,
          verdict.detail,
        ),
      ),
    ),
  );
  const alreadyApproved = approvals.some((approval) => approval.by === state.session.user);
  if (context.can("decide") && proposal.state === "pending") {
    const reasonId = `proposal-${proposal.id}-reason`;
    const reason = h("textarea", { id: reasonId, rows: 2, maxLength: 500 });
    const error = h("p", { class: "error", attrs: { role: "alert" } });
    const approve = h("button", {
      type: "button",
      class: "approve",
      text: alreadyApproved
        ? "Approved by you: waiting for a second person"
        : `Approve ${formatValue(proposal.value, unit)}`,
      disabled: alreadyApproved,
    });
    const reject = h("button", { type: "button", class: "reject danger", text: "Reject" });
    approve.addEventListener("click", () => decide(proposal, "approve", reason.value, error, [approve, reject]));
    reject.addEventListener("click", () => decide(proposal, "reject", reason.value, error, [approve, reject]));
    body.append(
      h(
        "div",
        { class: "decision" },
        h("label", { htmlFor: reasonId, text: "Your reason (required to reject)" }),
        reason,
        h("div", { class: "buttons" }, approve, reject),
        error,
      ),
    );
  }
  return { element: body, left, proposal };
}

/** Creates the Proposals page in `root`. */
export function proposalsPage(root, context) {
  const { state } = context;
  const list = h("div", { class: "proposal-list" });
  const empty = h("p", { class: "empty", text: "No proposals waiting for a decision." });
  const recentTable = table(
    "Recent decisions",
    ["Tag", "Value", "State", "Decided by", "Read-back", "Detail"],
    "grid recent",
  );
  let cards = new Map();

  async function decide(proposal, action, reason, error, buttons) {
    if (action === "reject" && !reason.trim()) {
      error.textContent = "Give a reason to reject.";
      return;
    }
    error.textContent = "";
    for (const button of buttons) button.disabled = true;
    try {
      const body = { digest: proposal.digest, ...(reason.trim() ? { reason: reason.trim() } : {}) };
      const result = await post(`/api/proposals/${encodeURIComponent(proposal.id)}/${action}`, body);
      context.announce(
        `${action === "approve" ? "Approved" : "Rejected"}: ${proposal.tag}, now ${result?.state ?? "decided"}`,
      );
    } catch (failure) {
      error.textContent = `${failure.message}${failure.fix ? ` ${failure.fix}` : ""}`;
      for (const button of buttons) button.disabled = false;
    }
  }

  function paintPending() {
    const next = new Map();
    const pending = [...state.proposals.pending].sort((a, b) => a.expiresAt - b.expiresAt);
    for (const proposal of pending) {
      const old = cards.get(proposal.id);
      // Same digest and approvals: keep the card (and whatever the person is typing in it).
      const same =
        old &&
        old.proposal.digest === proposal.digest &&
        (old.proposal.approvals ?? []).length === (proposal.approvals ?? []).length;
      next.set(proposal.id, same ? old : card(proposal, context, decide));
      if (old && !same && old.proposal.digest !== proposal.digest) {
        context.announce(`The proposal for ${proposal.tag} changed: review it again`, true);
      }
    }
    // Gone or redrawn: the old card leaves the page (a redrawn one would otherwise stay beside its successor).
    for (const [id, entry] of cards) if (next.get(id) !== entry) entry.element.remove();
    cards = next;
    // Cards move only when the order changes: a card that stays keeps its focus and the reason being typed.
    [...cards.values()].forEach((entry, index) => {
      if (list.children[index] !== entry.element) list.insertBefore(entry.element, list.children[index] ?? null);
    });
    empty.hidden = cards.size > 0;
    tick();
  }

  function paintRecent() {
    replace(
      recentTable.body,
      state.proposals.recent.map((proposal) => {
        const unit = proposal.unit ?? state.tags.get(proposal.tag)?.unit;
        return h(
          "tr",
          { data: { id: proposal.id, state: proposal.state } },
          h("th", { attrs: { scope: "row" }, data: { label: "Tag" }, text: proposal.tag }),
          cell("Value", formatValue(proposal.value, unit)),
          cell("State", h("span", { class: `state ${proposal.state}`, text: proposal.state })),
          cell("Decided by", proposal.decidedBy ?? "—"),
          cell(
            "Read-back",
            proposal.outcome
              ? `${proposal.outcome.readBack}${proposal.outcome.readBackValue !== undefined ? ` ${formatValue(proposal.outcome.readBackValue, unit)}` : ""}`
              : "—",
          ),
          cell("Detail", proposal.outcome?.detail ?? ""),
        );
      }),
    );
  }

  function tick() {
    for (const { left, proposal } of cards.values()) {
      const remaining = proposal.expiresAt - Date.now();
      left.textContent = remaining > 0 ? formatDuration(remaining) : "expired";
      left.classList.toggle("urgent", remaining < 60_000);
    }
  }

  replace(
    root,
    h("h1", { text: "Proposals" }),
    context.can("decide")
      ? null
      : h("p", {
          class: "hint",
          text: `As ${state.session.role} you can follow proposals here; deciding needs an operator.`,
        }),
    h("section", { attrs: { "aria-label": "Pending proposals" } }, empty, list),
    h("section", { attrs: { "aria-label": "Recent decisions" } }, recentTable.element),
  );
  paintPending();
  paintRecent();

  return {
    update(type) {
      if (type === "proposals" || type === "proposal") {
        paintPending();
        paintRecent();
      }
    },
    tick,
  };
}
