// The operator console: login, the pages (hash routes), and one live event stream feeding every page.
import { get, onSessionEnded, post, setCsrf } from "./console-api.js";
import { replace } from "./console-dom.js";
import { adaptersPage } from "./page-adapters.js";
import { auditPage } from "./page-audit.js";
import { loopsPage } from "./page-loops.js";
import { plantPage } from "./page-plant.js";
import { proposalsPage } from "./page-proposals.js";

const pages = {
  plant: { title: "Plant", create: plantPage },
  proposals: { title: "Proposals", create: proposalsPage },
  loops: { title: "Loops", create: loopsPage },
  audit: { title: "Audit", create: auditPage },
  adapters: { title: "Adapters", create: adaptersPage },
};

/** What a role may do; buttons for anything else are not shown (the server refuses it anyway). */
const grants = {
  viewer: ["read"],
  assistant: ["read", "propose"],
  operator: ["read", "propose", "decide"],
  engineer: ["read", "propose", "decide", "engineer"],
};

const byId = (id) => document.getElementById(id);
/** Trend points kept per tag: the last ten minutes, at most this many. */
const historySeconds = 600;
const historyLimit = 400;

const state = {
  session: undefined,
  site: undefined,
  tags: new Map(),
  samples: new Map(),
  history: new Map(),
  proposals: { pending: [], recent: [] },
  loops: [],
  adapters: [],
};
let events;
let current;
let ticker;

const context = {
  state,
  can: (need) => (grants[state.session?.role] ?? []).includes(need),
  announce(text, urgent = false) {
    const region = byId(urgent ? "alerter" : "announcer");
    // Clearing first makes screen readers announce the same words again when they repeat.
    region.textContent = "";
    setTimeout(() => {
      region.textContent = text;
    }, 50);
  },
  refresh: () => loadState(),
};

function addPoint(tag, point) {
  const points = state.history.get(tag) ?? [];
  points.push(point);
  const oldest = Date.now() - historySeconds * 1000;
  while (points.length > historyLimit || (points.length > 0 && points[0].t < oldest)) points.shift();
  state.history.set(tag, points);
}

async function loadHistory() {
  const numeric = state.site.tags.filter((tag) => tag.type === "float" || tag.type === "integer");
  await Promise.all(
    numeric.map(async (tag) => {
      const answer = await get(`/api/history?tag=${encodeURIComponent(tag.name)}&seconds=${historySeconds}`).catch(
        () => undefined,
      );
      if (answer) state.history.set(tag.name, answer.points.slice(-historyLimit));
    }),
  );
}

async function loadState() {
  const [site, snapshot, proposals, loops, adapters] = await Promise.all([
    get("/api/site"),
    get("/api/snapshot"),
    get("/api/proposals"),
    get("/api/loops"),
    get("/api/adapters"),
  ]);
  state.site = site;
  state.tags = new Map(site.tags.map((tag) => [tag.name, tag]));
  const received = Date.now();
  state.samples = new Map(Object.entries(snapshot.tags).map(([name, sample]) => [name, { ...sample, received }]));
  state.proposals = proposals;
  state.loops = loops;
  state.adapters = adapters;
  byId("site-name").textContent = site.name;
  updatePendingCount();
}

function updatePendingCount() {
  const count = byId("pending-count");
  const pending = state.proposals.pending.length;
  count.hidden = pending === 0;
  count.textContent = String(pending);
  count.setAttribute("aria-label", `${pending} pending`);
}

function onEvent(type, data) {
  if (type === "sample") {
    const { tag, ...sample } = data;
    const previous = state.samples.get(tag);
    state.samples.set(tag, { ...sample, received: Date.now() });
    if (typeof sample.value === "number") addPoint(tag, { t: sample.time, v: sample.value, q: sample.quality });
    if (previous && previous.quality !== sample.quality && sample.quality === "bad") {
      context.announce(`${tag} is now bad quality${sample.reason ? `: ${sample.reason}` : ""}`);
    }
  } else if (type === "proposals") {
    const known = new Set(state.proposals.pending.map((proposal) => proposal.id));
    const fresh = data.pending.filter((proposal) => !known.has(proposal.id));
    state.proposals = { ...state.proposals, pending: data.pending };
    if (fresh.length > 0) context.announce(`${fresh.length} new proposal${fresh.length > 1 ? "s" : ""} to review`);
    updatePendingCount();
  } else if (type === "proposal") {
    const pending = state.proposals.pending.filter((proposal) => proposal.id !== data.id);
    if (data.state === "pending") pending.push(data);
    const recent = [data, ...state.proposals.recent.filter((proposal) => proposal.id !== data.id)].slice(0, 50);
    state.proposals = { pending, recent: data.state === "pending" ? state.proposals.recent : recent };
    updatePendingCount();
  } else if (type === "loops") state.loops = data;
  else if (type === "adapters") state.adapters = data;
  current?.update?.(type, data);
}

function setConnection(text) {
  byId("connection").textContent = text;
}

function openEvents() {
  events?.close();
  let opened = false;
  events = new EventSource("/api/events");
  events.addEventListener("open", () => {
    setConnection("Live");
    // After a reconnect, anything sent while the stream was down is fetched again.
    if (opened) reloadPage();
    opened = true;
  });
  events.addEventListener("error", () => {
    setConnection("Connection lost: reconnecting…");
    if (events.readyState === EventSource.CLOSED) {
      // The server refused the stream: the session may have ended.
      setTimeout(() => checkSession(), 3000);
    }
  });
  for (const type of ["sample", "proposals", "proposal", "loops", "adapters", "audit"]) {
    events.addEventListener(type, (event) => {
      try {
        onEvent(type, JSON.parse(event.data));
      } catch (error) {
        console.error(`console: a "${type}" event could not be shown`, error);
      }
    });
  }
}

function route() {
  const name = /^#\/([a-z]+)/.exec(location.hash)?.[1];
  return pages[name] ? name : "plant";
}

function showPage() {
  if (!state.session || !state.site) return;
  const name = route();
  current?.dispose?.();
  const root = byId("page");
  replace(root);
  for (const link of document.querySelectorAll("#pages a")) {
    if (link.dataset.page === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${pages[name].title} · ${state.site.name} · plantwire`;
  current = pages[name].create(root, context);
}

async function reloadPage() {
  try {
    await loadState();
    showPage();
  } catch (error) {
    setConnection(`Could not load the site: ${error.message}`);
  }
}

function showLogin(message) {
  state.session = undefined;
  events?.close();
  events = undefined;
  clearInterval(ticker);
  current?.dispose?.();
  current = undefined;
  replace(byId("page"));
  byId("pages").hidden = true;
  byId("who").hidden = true;
  byId("login").hidden = false;
  byId("login-error").textContent = message ?? "";
  setConnection("Signed out");
  document.title = "Sign in · plantwire";
  byId("login-user").focus();
}

async function startSession(session) {
  state.session = session;
  setCsrf(session.csrf);
  byId("login").hidden = true;
  byId("pages").hidden = false;
  byId("who").hidden = false;
  byId("who-user").textContent = session.user;
  byId("who-role").textContent = session.role;
  setConnection("Loading…");
  await loadState();
  await loadHistory();
  openEvents();
  showPage();
  clearInterval(ticker);
  ticker = setInterval(() => current?.tick?.(), 1000);
}

async function checkSession() {
  try {
    const session = await get("/api/session", { quietUnauthorized: true });
    if (!state.session) await startSession(session);
    else if (events?.readyState === EventSource.CLOSED) openEvents();
  } catch (error) {
    if (error.status === 401) showLogin(state.session ? "Your session has ended. Please sign in again." : "");
    else setConnection(`The server cannot be reached: ${error.message}`);
  }
}

async function login(event) {
  event.preventDefault();
  const user = byId("login-user").value.trim();
  const password = byId("login-password").value;
  const error = byId("login-error");
  if (!user || !password) {
    error.textContent = "Enter your user name and password.";
    return;
  }
  const submit = byId("login-submit");
  submit.disabled = true;
  error.textContent = "";
  try {
    const session = await post("/api/login", { user, password }, { quietUnauthorized: true });
    byId("login-password").value = "";
    await startSession(session);
    byId("main").focus();
  } catch (failure) {
    error.textContent =
      failure.status === 429
        ? `Too many failed attempts. Try again in ${failure.body?.retryAfterSeconds ?? "a few"} seconds.`
        : failure.status === 401
          ? "Wrong user name or password."
          : `Could not sign in: ${failure.message}`;
  } finally {
    submit.disabled = false;
  }
}

async function logout() {
  try {
    await post("/api/logout", undefined, { quietUnauthorized: true });
  } catch {
    // Signed out on this side either way; the server ends idle sessions by itself.
  }
  setCsrf("");
  showLogin("You have signed out.");
}

onSessionEnded(() => {
  if (state.session) showLogin("Your session has ended. Please sign in again.");
});
byId("login-form").addEventListener("submit", login);
byId("logout").addEventListener("click", logout);
byId("skip-link").addEventListener("click", (event) => {
  // The hash is the page's route: the skip link moves focus instead of navigating.
  event.preventDefault();
  byId("main").focus();
});
window.addEventListener("hashchange", showPage);
checkSession();
