// What the console knows of the site: loaded once after sign-in (and again after a lost stream), then kept current
// by the event stream, so every page draws at once from it and switching pages costs no request.
import { get } from "./console-api.js";

/** Trend points kept per tag: the last ten minutes, at most this many. */
const historySeconds = 600;
const historyLimit = 400;

/** The site as the pages see it. */
export const state = {
  session: undefined,
  site: undefined,
  tags: new Map(),
  samples: new Map(),
  history: new Map(),
  proposals: { pending: [], recent: [] },
  loops: [],
  adapters: [],
};

function addPoint(tag, point) {
  const points = state.history.get(tag) ?? [];
  points.push(point);
  const oldest = Date.now() - historySeconds * 1000;
  while (points.length > historyLimit || (points.length > 0 && points[0].t < oldest)) points.shift();
  state.history.set(tag, points);
}

/** Each numeric tag's recent history, for the trends. */
export async function loadHistory() {
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

/** The site, its latest samples, proposals, loops and adapters. */
export async function loadState() {
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
}

/** Applies one event of the stream to the state; `announce` says what a person should hear about it. */
export function applyEvent(type, data, announce) {
  if (type === "sample") {
    const { tag, ...sample } = data;
    const previous = state.samples.get(tag);
    state.samples.set(tag, { ...sample, received: Date.now() });
    if (typeof sample.value === "number") addPoint(tag, { t: sample.time, v: sample.value, q: sample.quality });
    if (previous && previous.quality !== sample.quality && sample.quality === "bad") {
      announce(`${tag} is now bad quality${sample.reason ? `: ${sample.reason}` : ""}`);
    }
  } else if (type === "proposals") {
    const known = new Set(state.proposals.pending.map((proposal) => proposal.id));
    const fresh = data.pending.filter((proposal) => !known.has(proposal.id));
    state.proposals = { ...state.proposals, pending: data.pending };
    if (fresh.length > 0) announce(`${fresh.length} new proposal${fresh.length > 1 ? "s" : ""} to review`);
  } else if (type === "proposal") {
    const pending = state.proposals.pending.filter((proposal) => proposal.id !== data.id);
    if (data.state === "pending") pending.push(data);
    const recent = [data, ...state.proposals.recent.filter((proposal) => proposal.id !== data.id)].slice(0, 50);
    state.proposals = { pending, recent: data.state === "pending" ? state.proposals.recent : recent };
  } else if (type === "loops") state.loops = data;
  else if (type === "adapters") state.adapters = data;
}
