// The lineage page of the Alvin mock API: draws /api/v1/explorer/graph (laid out by the server) as
// SVG and shows a node's details from /api/v1/explorer/nodes/<id>. Plain JavaScript, no library.
// Every value from an event is set with textContent or setAttribute, never parsed as HTML.
"use strict";

(function () {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const NODE_W = 220;
  const NODE_H = 40;
  const svg = document.getElementById("graph");
  if (!svg) {
    return;
  }
  const wrap = document.getElementById("graph-wrap");
  const details = document.getElementById("details");
  const status = document.getElementById("graph-status");
  const dagFilter = document.getElementById("dag-filter");
  const params = new URLSearchParams(window.location.search);
  let graph = null;
  let scale = 1;

  function svgEl(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      node.setAttribute(name, String(value));
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    if (className) {
      node.className = className;
    }
    return node;
  }

  function stateClass(state) {
    return "s-" + String(state || "none").toLowerCase().replace(/[^a-z_]/g, "");
  }

  function shorten(text, max) {
    const value = String(text);
    return value.length > max ? value.slice(0, max - 1) + "…" : value;
  }

  function duration(seconds) {
    if (typeof seconds !== "number") {
      return "-";
    }
    return seconds < 60 ? seconds.toFixed(seconds < 10 ? 2 : 1) + " s" : Math.round(seconds / 60) + " min";
  }

  async function getJson(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) {
      throw new Error(url + " answered HTTP " + response.status);
    }
    return response.json();
  }

  function applyScale() {
    if (!graph) {
      return;
    }
    const width = Math.max(graph.width, 1) + 20;
    const height = Math.max(graph.height, 1) + 20;
    svg.setAttribute("viewBox", "-10 -10 " + width + " " + height);
    svg.setAttribute("width", String(Math.round(width * scale)));
    svg.setAttribute("height", String(Math.round(height * scale)));
  }

  function edgePath(source, target, back) {
    const sx = source.x + NODE_W;
    const sy = source.y + NODE_H / 2;
    const tx = target.x;
    const ty = target.y + NODE_H / 2;
    if (back) {
      // an edge into an earlier column (a job writing a table it reads): an arc below both nodes
      const low = Math.max(source.y, target.y) + NODE_H + 18;
      return "M" + sx + "," + sy + " C" + (sx + 60) + "," + low + " " + (tx - 60) + "," + low + " " + tx + "," + ty;
    }
    const mid = (sx + tx) / 2;
    return "M" + sx + "," + sy + " C" + mid + "," + sy + " " + mid + "," + ty + " " + tx + "," + ty;
  }

  function draw() {
    svg.replaceChildren();
    const defs = svgEl("defs");
    const marker = svgEl("marker", {
      id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto",
    });
    marker.appendChild(svgEl("path", { d: "M0,0 L10,5 L0,10 z" }));
    defs.appendChild(marker);
    svg.appendChild(defs);
    const byId = new Map(graph.nodes.map((node) => [node.id, node]));
    const edges = svgEl("g", { class: "edges" });
    for (const edge of graph.edges) {
      const source = byId.get(edge.source);
      const target = byId.get(edge.target);
      if (!source || !target) {
        continue;
      }
      edges.appendChild(svgEl("path", {
        class: "edge" + (edge.back ? " back" : ""),
        d: edgePath(source, target, edge.back),
        "marker-end": "url(#arrow)",
        "data-source": edge.source,
        "data-target": edge.target,
      }));
    }
    svg.appendChild(edges);
    const nodes = svgEl("g", { class: "nodes" });
    for (const node of graph.nodes) {
      const group = svgEl("g", {
        class: "node " + node.kind + " " + stateClass(node.state),
        transform: "translate(" + node.x + "," + node.y + ")",
        tabindex: 0,
        role: "button",
        "data-id": node.id,
        "data-kind": node.kind,
        "data-name": node.name,
        "data-namespace": node.namespace,
      });
      group.appendChild(svgEl("title", {}, node.kind + " " + node.namespace + " / " + node.name +
        (node.state ? " (last run: " + node.state + ")" : "")));
      group.appendChild(svgEl("rect", { width: NODE_W, height: NODE_H }));
      group.appendChild(svgEl("text", { x: 10, y: 16, class: "name" }, shorten(node.name, 31)));
      group.appendChild(svgEl("text", { x: 10, y: 31, class: "ns" }, shorten(node.namespace, 38)));
      group.addEventListener("click", () => select(node.id));
      group.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          select(node.id);
        }
      });
      nodes.appendChild(group);
    }
    svg.appendChild(nodes);
    applyScale();
  }

  function nodeList(title, items) {
    const section = document.createDocumentFragment();
    section.appendChild(el("h4", title));
    if (!items.length) {
      section.appendChild(el("p", "none", "note"));
      return section;
    }
    const list = el("ul");
    for (const item of items) {
      const entry = el("li");
      const button = el("button", item.name, "link");
      button.type = "button";
      button.title = item.namespace + " / " + item.name;
      button.addEventListener("click", () => select(item.id));
      entry.appendChild(button);
      entry.appendChild(document.createTextNode(" "));
      entry.appendChild(el("span", item.state || "-", "state " + stateClass(item.state)));
      list.appendChild(entry);
    }
    section.appendChild(list);
    return section;
  }

  function eventLinks(events) {
    const cell = el("td");
    for (const event of events) {
      const link = el("a", event.type);
      link.href = "/events/" + encodeURIComponent(event.id);
      cell.appendChild(link);
      cell.appendChild(document.createTextNode(" "));
    }
    return cell;
  }

  function runsTable(runs) {
    const table = el("table", null, "runs");
    const head = el("tr");
    for (const name of ["DAG run", "try", "state", "took", "events"]) {
      head.appendChild(el("th", name));
    }
    table.appendChild(head);
    for (const run of runs) {
      const row = el("tr", null, "run");
      row.appendChild(el("td", run.dag_run_id));
      row.appendChild(el("td", run.try_number === null ? "-" : run.try_number));
      const state = el("td");
      state.appendChild(el("span", run.state || "-", "state " + stateClass(run.state)));
      row.appendChild(state);
      row.appendChild(el("td", duration(run.duration)));
      row.appendChild(eventLinks(run.events));
      table.appendChild(row);
      if (run.error) {
        // the error under its run, across the table: a stack trace's first line needs the width
        const line = el("tr", null, "run-error");
        const cell = el("td", run.error, "error");
        cell.colSpan = 5;
        line.appendChild(cell);
        table.appendChild(line);
      }
    }
    return table;
  }

  function showDetails(info) {
    details.replaceChildren();
    details.appendChild(el("p", info.kind, "note"));
    details.appendChild(el("h3", info.name));
    details.appendChild(el("p", info.namespace, "note"));
    if (info.kind === "dataset") {
      details.appendChild(nodeList("Written by", info.writers));
      details.appendChild(nodeList("Read by", info.readers));
      details.appendChild(el("h4", "Column lineage"));
      if (!info.column_lineage.length) {
        details.appendChild(el("p", "none sent for this dataset", "note"));
      } else {
        const table = el("table", null, "columns");
        for (const column of info.column_lineage) {
          const row = el("tr");
          row.appendChild(el("td", column.field));
          const sources = column.inputs.map((s) => s.namespace + "/" + s.name + "." + s.field);
          row.appendChild(el("td", "← " + (sources.join(", ") || "-")));
          table.appendChild(row);
        }
        details.appendChild(table);
      }
    } else {
      details.appendChild(nodeList("Reads", info.inputs));
      details.appendChild(nodeList("Writes", info.outputs));
      details.appendChild(el("h4", "Recent runs"));
      details.appendChild(runsTable(info.runs));
    }
  }

  async function select(id) {
    for (const node of svg.querySelectorAll(".node.selected")) {
      node.classList.remove("selected");
    }
    for (const edge of svg.querySelectorAll("path.edge.hot")) {
      edge.classList.remove("hot");
    }
    for (const node of svg.querySelectorAll(".node")) {
      if (node.getAttribute("data-id") === id) {
        node.classList.add("selected");
      }
    }
    for (const edge of svg.querySelectorAll("path.edge")) {
      if (edge.getAttribute("data-source") === id || edge.getAttribute("data-target") === id) {
        edge.classList.add("hot");
      }
    }
    try {
      showDetails(await getJson("/api/v1/explorer/nodes/" + encodeURIComponent(id)));
    } catch (error) {
      details.replaceChildren(el("p", String(error), "bad"));
    }
  }

  async function load() {
    const dag = params.get("dag_id") || "";
    const query = dag ? "?dag_id=" + encodeURIComponent(dag) : "";
    try {
      graph = await getJson("/api/v1/explorer/graph" + query);
    } catch (error) {
      status.textContent = String(error);
      return;
    }
    for (const name of graph.dags) {
      const option = el("option", name);
      option.value = name;
      option.selected = name === dag;
      dagFilter.appendChild(option);
    }
    const jobs = graph.nodes.filter((node) => node.kind === "job").length;
    status.textContent = jobs + " jobs, " + (graph.nodes.length - jobs) + " datasets, " + graph.edges.length +
      " edges" + (graph.truncated ? " (the newest jobs of " + graph.total_nodes + " nodes; filter by DAG)" : "");
    draw();
    svg.setAttribute("data-ready", "true");
  }

  dagFilter.addEventListener("change", () => {
    const next = new URLSearchParams();
    if (dagFilter.value) {
      next.set("dag_id", dagFilter.value);
    }
    window.location.search = next.toString();
  });
  for (const button of document.querySelectorAll("[data-zoom]")) {
    button.addEventListener("click", () => {
      const how = button.getAttribute("data-zoom");
      scale = how === "fit" && graph
        ? Math.min(1, (wrap.clientWidth - 4) / (graph.width + 20), (wrap.clientHeight - 4) / (graph.height + 20))
        : Math.max(0.2, Math.min(3, scale * Number(how)));
      applyScale();
    });
  }
  load();
})();
