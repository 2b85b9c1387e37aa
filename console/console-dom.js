// DOM helpers for the console. Every text goes in through textContent: plant text and the model's words are
// untrusted, and the Content-Security-Policy forbids inline script and style anyway. Nothing is parsed as markup.

const svgNamespace = "http://www.w3.org/2000/svg";

/**
 * Creates an element. `props`: class, text, attrs (setAttribute, never style), data (dataset), on (listeners),
 * hidden, and any DOM property (value, type, disabled, htmlFor...).
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (/HTML$/.test(key)) throw new Error(`h(): "${key}" would parse text as markup; use text`);
    if (key === "class") element.className = value;
    else if (key === "text") element.textContent = String(value);
    else if (key === "attrs") {
      for (const [name, attr] of Object.entries(value)) {
        // Inline style and handlers are what the Content-Security-Policy blocks: never set them.
        if (name === "style" || name.startsWith("on")) throw new Error(`h(): no "${name}" attribute`);
        element.setAttribute(name, attr);
      }
    } else if (key === "data") Object.assign(element.dataset, value);
    else if (key === "on")
      for (const [type, listener] of Object.entries(value)) element.addEventListener(type, listener);
    else element[key] = value;
  }
  append(element, children);
  return element;
}

function append(parent, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
}

/** A table whose cells carry their column names, so narrow screens can show each row as a card. */
export function table(caption, columns, className) {
  const body = h("tbody");
  const element = h(
    "table",
    { class: className ?? "grid" },
    h("caption", { text: caption }),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        columns.map((column) => h("th", { text: column, attrs: { scope: "col" } })),
      ),
    ),
    body,
  );
  return { element, body };
}

/** A table cell labelled with its column (shown before the value on narrow screens, via CSS attr()). */
export function cell(label, ...children) {
  return h("td", { data: { label } }, ...children);
}

/** A number as a person reads it: no float noise, at most four significant decimals. */
export function formatValue(value, unit) {
  if (value === undefined || value === null) return "—";
  let text;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) text = String(value);
    else text = Math.abs(value) >= 1000 ? value.toFixed(0) : String(Number(value.toPrecision(4)));
  } else if (typeof value === "boolean") text = value ? "true" : "false";
  else if (typeof value === "string") text = value === "" ? "(empty)" : value;
  else text = JSON.stringify(value);
  return unit ? `${text} ${unit}` : text;
}

/** A duration as a short phrase: "4 s", "3 min 10 s", "2 h 5 min". */
export function formatDuration(ms) {
  if (!Number.isFinite(ms)) return "—";
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** A time of day (local), with the date when it is not today. */
export function formatTime(time) {
  if (time === undefined || time === null) return "—";
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) return String(time);
  const today = new Date().toDateString() === date.toDateString();
  return today ? date.toLocaleTimeString() : date.toLocaleString();
}

/** A <time> element with the machine-readable time. */
export function timeElement(time) {
  const date = new Date(time ?? Number.NaN);
  return h("time", {
    text: formatTime(time),
    attrs: Number.isNaN(date.getTime()) ? {} : { datetime: date.toISOString() },
  });
}

/**
 * A small trend line as inline SVG, from points [{t, v}] (numbers only; gaps where a value was not a number).
 * Marked as an image with a text alternative: the range it shows.
 */
export function sparkline(points, label) {
  const width = 120;
  const height = 28;
  const svg = document.createElementNS(svgNamespace, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("class", "sparkline");
  svg.setAttribute("role", "img");
  const numbers = points.filter((point) => typeof point.v === "number" && Number.isFinite(point.v));
  if (numbers.length < 2) {
    svg.setAttribute("aria-label", `${label}: no trend yet`);
    return svg;
  }
  const values = numbers.map((point) => point.v);
  const low = Math.min(...values);
  const high = Math.max(...values);
  const first = numbers[0].t;
  const span = Math.max(1, numbers[numbers.length - 1].t - first);
  const range = high - low || 1;
  const coordinates = numbers.map((point) => {
    const x = ((point.t - first) / span) * (width - 2) + 1;
    const y = height - 2 - ((point.v - low) / range) * (height - 4);
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  const line = document.createElementNS(svgNamespace, "polyline");
  line.setAttribute("points", coordinates.join(" "));
  line.setAttribute("fill", "none");
  line.setAttribute("class", "sparkline-line");
  svg.append(line);
  const title = document.createElementNS(svgNamespace, "title");
  title.textContent = `${label}: ${formatValue(low)} to ${formatValue(high)}`;
  svg.append(title);
  svg.setAttribute("aria-label", title.textContent);
  return svg;
}
