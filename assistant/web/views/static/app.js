// Flowdraft pages: buttons that POST JSON, the Inbox's polling, run pages that follow
// their run, and every page's charts. The server decides everything; this only asks.
(() => {
  "use strict";
  const FLASH_KEY = "flowdraft-flash";
  const flash = document.getElementById("flash");

  function say(text, ok) {
    flash.textContent = text;
    flash.className = ok ? "ok" : "refused";
    flash.hidden = false;
  }

  function carry(text, ok) {
    sessionStorage.setItem(FLASH_KEY, JSON.stringify({ text, ok }));
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body || {}),
    });
    let data = {};
    try {
      data = await response.json();
    } catch (error) {
      data = {};
    }
    const message = data.message || data.detail || `${response.status} ${response.statusText}`;
    return { ok: response.ok && data.ok !== false, message, data };
  }

  async function pressed(button) {
    if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
    const body = JSON.parse(button.dataset.body || "{}");
    button.disabled = true;
    try {
      const result = await post(button.dataset.post, body);
      if (result.ok && "token" in button.dataset) {
        document.getElementById("token-value").textContent = result.data.token;
        document.getElementById("token").hidden = false;
      }
      if (result.ok && "followRun" in button.dataset && result.data.run) {
        carry(result.message, true);
        window.location.assign(`/app/runs/${encodeURIComponent(result.data.run)}`);
        return;
      }
      if (result.ok && "reload" in button.dataset) {
        carry(result.message, true);
        window.location.reload();
        return;
      }
      say(result.message, result.ok);
    } finally {
      button.disabled = false;
    }
  }

  async function decided(button) {
    const card = button.closest("[data-item]");
    const outcome = card.querySelector(".outcome");
    const buttons = card.querySelectorAll("button[data-decide]");
    buttons.forEach((b) => { b.disabled = true; });
    const result = await post(`/app/inbox/${encodeURIComponent(card.dataset.item)}`, {
      decision: button.dataset.decide,
      reason: card.querySelector("input[name=reason]").value,
      content_hash: button.dataset.hash || "",
    });
    outcome.textContent = result.message;
    outcome.className = `outcome ${result.ok ? "ok" : "refused"}`;
    if (result.ok) {
      card.dataset.decided = button.dataset.decide;
      card.classList.add("decided");
    } else {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  document.addEventListener("click", (event) => {
    const post = event.target.closest("button[data-post]");
    if (post) {
      event.preventDefault();
      pressed(post);
      return;
    }
    const decide = event.target.closest("button[data-decide]");
    if (decide) {
      event.preventDefault();
      decided(decide);
    }
  });

  // The Inbox: poll the items; add new cards, drop those decided elsewhere.
  const inbox = document.getElementById("inbox");
  const count = document.getElementById("inbox-count");

  async function refreshInbox() {
    const response = await fetch("/app/inbox.json", {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (response.status === 401) {
      window.location.assign("/chat/login");
      return;
    }
    if (!response.ok) return;
    const ids = (await response.json()).items.map((item) => item.id);
    count.textContent = String(ids.length);
    count.hidden = ids.length === 0;
    if (!inbox) return;
    const shown = new Map([...inbox.querySelectorAll("[data-item]")].map((c) => [c.dataset.item, c]));
    shown.forEach((card, id) => {
      if (!ids.includes(id) && !card.dataset.decided) card.remove();
    });
    if (ids.some((id) => !shown.has(id))) {
      const cards = await fetch("/app/inbox/items", { credentials: "same-origin" });
      const holder = document.createElement("template");
      holder.innerHTML = await cards.text();
      holder.content.querySelectorAll("[data-item]").forEach((card) => {
        if (!inbox.querySelector(`[data-item="${CSS.escape(card.dataset.item)}"]`)) {
          inbox.append(card);
        }
      });
    }
    document.getElementById("inbox-empty").hidden = inbox.querySelector("[data-item]") !== null;
    inbox.dataset.items = ids.join(" ");
    inbox.dataset.ready = "1";
  }

  async function keepPolling(poll, every) {
    try {
      await poll();
    } catch (error) {
      // The server restarting or the network dropping: try again at the next tick.
    }
    window.setTimeout(() => keepPolling(poll, every), every);
  }

  keepPolling(refreshInbox, inbox ? 3000 : 10000);

  // A run that has not finished: reload its page when it moves on.
  const timeline = document.querySelector("[data-poll-run]");
  function signature(run) {
    return `${run.status}|${run.steps.map((s) => s.status).join(",")}`;
  }
  if (timeline) {
    const url = `/app/runs/${encodeURIComponent(timeline.dataset.pollRun)}/state.json`;
    let first = null;
    keepPolling(async () => {
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) return;
      const now = signature((await response.json()).run);
      if (first === null) first = timeline.dataset.signature || now;
      if (now !== first) window.location.reload();
    }, 1500);
  }

  // Every page's charts (Chart.js, served from /app/static/vendor): a canvas with an id
  // has its data, and its options, in the JSON block "<id>-data" the server wrote.
  function plot(canvas) {
    const source = document.getElementById(`${canvas.id}-data`);
    if (!source || !window.Chart) return;
    const data = JSON.parse(source.textContent);
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: data.labels, datasets: data.datasets },
      options: { animation: false, maintainAspectRatio: false, ...data.options },
    });
    canvas.dataset.ready = "1";
  }
  document.querySelectorAll("canvas[id]").forEach(plot);

  const carried = sessionStorage.getItem(FLASH_KEY);
  if (carried) {
    sessionStorage.removeItem(FLASH_KEY);
    const { text, ok } = JSON.parse(carried);
    say(text, ok);
  }
  document.body.dataset.ready = "1";
})();
