// The operator console: login, the pages (hash routes), and one live event stream feeding every page.
import { get, lastRequestTime, onSessionEnded, post, setCsrf } from "./console-api.js";
import { replace } from "./console-dom.js";
import { applyEvent, loadHistory, loadState, state } from "./console-state.js";
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
};

async function loadAll() {
  await loadState();
  byId("site-name").textContent = state.site.name;
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
  applyEvent(type, data, (text) => context.announce(text));
  if (type === "proposals" || type === "proposal") updatePendingCount();
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
    await loadAll();
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
  byId("who-user").textContent = "";
  byId("who-role").textContent = "";
  byId("pages").hidden = true;
  byId("who").hidden = true;
  byId("login").hidden = false;
  byId("login-error").textContent = message ?? "";
  // A panel PC is shared: the next person starts from an empty form.
  byId("login-user").value = "";
  byId("login-password").value = "";
  setConnection("Signed out");
  document.title = "Sign in · plantwire";
  byId("login-user").focus();
}

/** Opens the pages for a session; false when the person signed out (or the session ended) while it loaded. */
async function startSession(session) {
  state.session = session;
  setCsrf(session.csrf);
  byId("login").hidden = true;
  setConnection("Loading…");
  await loadAll();
  await loadHistory();
  if (state.session !== session) return false;
  // The header names the person once the pages can be used: whoever sees their name can act.
  byId("pages").hidden = false;
  byId("who").hidden = false;
  byId("who-user").textContent = session.user;
  byId("who-role").textContent = session.role;
  openEvents();
  showPage();
  clearInterval(ticker);
  ticker = setInterval(() => {
    // The server ends a session after its idle timeout; the page says so then, instead of showing a stale view.
    const idle = state.session?.idleTimeoutMs;
    if (idle && Date.now() - lastRequestTime() > idle) {
      showLogin(`Signed out after ${Math.round(idle / 60_000)} minutes without activity. Please sign in again.`);
      return;
    }
    current?.tick?.();
  }, 1000);
  return true;
}

async function checkSession() {
  try {
    const session = await get("/api/session", { quietUnauthorized: true });
    if (!state.session) await startSession(session);
    else if (events?.readyState === EventSource.CLOSED) openEvents();
  } catch (error) {
    if (error.status === 401) showLogin(state.session ? "Your session has ended. Please sign in again." : "");
    else if (!state.session || byId("pages").hidden) showLogin(`The server cannot be reached: ${error.message}`);
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
  let session;
  try {
    session = await post("/api/login", { user, password }, { quietUnauthorized: true });
  } catch (failure) {
    error.textContent =
      failure.status === 429
        ? `Too many failed attempts. Try again in ${failure.body?.retryAfterSeconds ?? "a few"} seconds.`
        : failure.status === 401
          ? "Wrong user name or password."
          : `Could not sign in: ${failure.message}${failure.fix ? `; ${failure.fix}` : ""}.`;
    return;
  } finally {
    submit.disabled = false;
    byId("login-password").value = "";
  }
  try {
    if (await startSession(session)) byId("main").focus();
  } catch (failure) {
    // Signed in, but the site could not be loaded: back to the form, which says why.
    if (state.session) showLogin(`Signed in, but the site could not be loaded: ${failure.message}`);
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
