// Sandbox chat: talk to the bot as a made-up user. Calls /sandbox/api/* (forwarded to the sandbox).
"use strict";
(function () {
  const root = document.getElementById("sandbox");
  if (!root) return;
  const t = (key) => root.dataset["t" + key.charAt(0).toUpperCase() + key.slice(1)] || key;
  const api = (path) => "/sandbox/api/" + path;
  // The admin refuses a POST without the CSRF token of this page (base.html puts it in a <meta>).
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.content : "";
  const listEl = document.getElementById("user-list");
  const messagesEl = document.getElementById("messages");
  const headEl = document.getElementById("chat-head");
  let current = null;      // the selected user
  let lastRender = "";     // skip redraws when nothing changed

  async function call(method, path, body) {
    const options = { method, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(api(path), options);
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || data.description || response.statusText);
    return data;
  }

  // Telegram entities use UTF-16 offsets, as JavaScript strings do.
  const TAGS = { bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code", pre: "pre",
                 spoiler: "span", blockquote: "blockquote" };

  function renderText(container, text, entities) {
    text = text || "";
    const marks = [];
    (entities || []).forEach((e) => {
      if (TAGS[e.type] || e.type === "text_link" || e.type === "url") marks.push(e);
    });
    let pos = 0;
    marks.sort((a, b) => a.offset - b.offset);
    marks.forEach((e) => {
      if (e.offset < pos) return; // nested entities: keep the outer one, plain inside
      container.appendChild(document.createTextNode(text.slice(pos, e.offset)));
      const piece = text.slice(e.offset, e.offset + e.length);
      let node;
      if (e.type === "text_link" || e.type === "url") {
        node = document.createElement("a");
        node.href = e.url || piece;
        node.rel = "noopener noreferrer";
        node.target = "_blank";
      } else {
        node = document.createElement(TAGS[e.type]);
      }
      node.textContent = piece;
      container.appendChild(node);
      pos = e.offset + e.length;
    });
    container.appendChild(document.createTextNode(text.slice(pos)));
  }

  function renderMessage(m) {
    const box = document.createElement("div");
    box.className = "msg" + (m.from_bot ? "" : " me") + (m.deleted ? " deleted" : "");
    box.dataset.messageId = m.message_id;
    if (m.media) {
      if (m.media.type === "photo") {
        const img = document.createElement("img");
        img.src = api(m.media.url.replace(/^\/sandbox\//, ""));
        img.alt = "photo";
        box.appendChild(img);
      } else {
        const a = document.createElement("a");
        a.href = api(m.media.url.replace(/^\/sandbox\//, ""));
        a.textContent = "📎 " + (m.media.file_name || m.media.type);
        box.appendChild(a);
        box.appendChild(document.createElement("br"));
      }
    }
    if (m.location) box.appendChild(document.createTextNode("📍 " + m.location.latitude + ", " + m.location.longitude));
    if (m.contact) box.appendChild(document.createTextNode("☎ " + m.contact.phone_number));
    if (m.poll) box.appendChild(document.createTextNode("📊 " + m.poll.question));
    renderText(box, m.text != null ? m.text : m.caption, m.text != null ? m.entities : m.caption_entities);
    const rows = (m.reply_markup && m.reply_markup.inline_keyboard) || [];
    if (rows.length) {
      const kb = document.createElement("div");
      kb.className = "kb";
      rows.forEach((row) => row.forEach((button) => {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = button.text;
        if (button.callback_data) {
          b.addEventListener("click", () => press(m.message_id, button.callback_data));
        } else if (button.url) {
          b.addEventListener("click", () => window.open(button.url, "_blank", "noopener"));
        }
        kb.appendChild(b);
      }));
      box.appendChild(kb);
    }
    const meta = document.createElement("div");
    meta.className = "meta";
    const when = new Date(m.date * 1000).toLocaleTimeString();
    meta.textContent = (m.from_bot ? t("bot") : t("you")) + " · " + when +
      (m.edited ? " · " + t("edited") : "") + (m.deleted ? " · " + t("deleted") : "");
    box.appendChild(meta);
    return box;
  }

  async function refresh() {
    if (!current) return;
    try {
      const data = await call("GET", "chats/" + current.id + "/messages?after=0");
      const key = JSON.stringify(data.messages.map((m) => [m.message_id, m.text, m.edited, m.deleted, m.reply_markup]));
      if (key === lastRender) return;
      lastRender = key;
      const stick = messagesEl.scrollTop + messagesEl.clientHeight >= messagesEl.scrollHeight - 40;
      messagesEl.replaceChildren();
      if (!data.messages.length) {
        const p = document.createElement("p");
        p.className = "empty";
        p.textContent = t("empty");
        messagesEl.appendChild(p);
      }
      data.messages.forEach((m) => messagesEl.appendChild(renderMessage(m)));
      if (stick) messagesEl.scrollTop = messagesEl.scrollHeight;
    } catch (err) {
      if (String(err.message).includes("chat not found") || String(err.message).includes("not found")) {
        messagesEl.replaceChildren();
        const p = document.createElement("p");
        p.className = "empty";
        p.textContent = t("empty");
        messagesEl.appendChild(p);
        lastRender = "";
      } else {
        headEl.textContent = t("error");
      }
    }
  }

  async function loadUsers(selectId) {
    const data = await call("GET", "users");
    listEl.replaceChildren();
    data.users.forEach((entry) => {
      const u = entry.user || entry;
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = [u.first_name, u.last_name].filter(Boolean).join(" ") + " · " + u.id;
      b.className = current && current.id === u.id ? "active" : "";
      b.addEventListener("click", () => select(u));
      li.appendChild(b);
      listEl.appendChild(li);
      if (selectId && u.id === selectId) select(u);
    });
  }

  function select(user) {
    current = user;
    lastRender = "";
    headEl.textContent = [user.first_name, user.last_name].filter(Boolean).join(" ") + " (id " + user.id + ")";
    listEl.querySelectorAll("button").forEach((b) => b.classList.toggle("active", b.textContent.endsWith(" " + user.id)));
    refresh();
  }

  async function send(content) {
    if (!current) return;
    await call("POST", "send", Object.assign({ user_id: current.id }, content));
    refresh();
  }

  async function press(messageId, data) {
    if (!current) return;
    await call("POST", "press", { user_id: current.id, message_id: messageId, callback_data: data });
    setTimeout(refresh, 150);
  }

  document.getElementById("user-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const id = 700000000 + Math.floor(Math.random() * 99999999);
    await call("POST", "users", {
      id,
      first_name: form.get("first_name"),
      last_name: form.get("last_name") || null,
      language_code: form.get("language_code"),
    });
    await loadUsers(id);
  });

  document.getElementById("send-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const field = event.target.elements.text;
    const text = field.value;
    if (!text.trim()) return;
    field.value = "";
    await send({ text });
  });
  document.querySelector("#send-form textarea").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      event.target.form.requestSubmit();
    }
  });

  document.getElementById("file-input").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    const buffer = new Uint8Array(await file.arrayBuffer());
    let binary = "";
    for (let i = 0; i < buffer.length; i += 0x8000) binary += String.fromCharCode.apply(null, buffer.subarray(i, i + 0x8000));
    const data = btoa(binary);
    const caption = document.querySelector("#send-form textarea").value || undefined;
    document.querySelector("#send-form textarea").value = "";
    if (file.type.startsWith("image/")) {
      await send({ photo: { data, filename: file.name }, caption });
    } else {
      await send({ document: { data, filename: file.name, mime_type: file.type || "application/octet-stream" }, caption });
    }
    event.target.value = "";
  });

  document.getElementById("send-location").addEventListener("click", () => {
    const lat = parseFloat(window.prompt(t("lat"), "55.6347"));
    const lon = parseFloat(window.prompt(t("lon"), "34.3265"));
    if (!Number.isNaN(lat) && !Number.isNaN(lon)) send({ location: { latitude: lat, longitude: lon } });
  });
  document.getElementById("send-contact").addEventListener("click", () => {
    const phone = window.prompt(t("phone"), "+79001234567");
    if (phone) send({ contact: { phone_number: phone, first_name: current ? current.first_name : "", user_id: current ? current.id : undefined } });
  });
  document.getElementById("send-sticker").addEventListener("click", () => send({ sticker: "👍" }));

  loadUsers().catch(() => { headEl.textContent = t("error"); });
  setInterval(refresh, 1000);
})();
