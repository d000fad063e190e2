// What GWE's scripts do on a customer's page, reduced to what the browser
// tests need: credentialed calls to the load balancer, one after the other
// (each sees the cookie the previous answer set), and a WebSocket.
// Every call answers with the member that served it (the test members
// answer JSON: {"member": NAME, "cookie": <Cookie header received>, ...}).
window.gwe = {
  // n sequential credentialed fetches of url; [{member, cookie, status}]
  // or {error} for a call that failed.
  async calls(url, n) {
    const out = [];
    for (let i = 0; i < n; i++) {
      try {
        const r = await fetch(url, {credentials: "include", cache: "no-store"});
        const text = await r.text();
        let j = null;
        try { j = JSON.parse(text); } catch (e) { /* not a member's answer */ }
        out.push({status: r.status, member: j ? j.member : null,
                  cookie: j ? j.cookie : null});
      } catch (e) {
        out.push({error: String(e)});
      }
    }
    return out;
  },

  // Open a WebSocket, send text, resolve with the first message received.
  ws(url, text) {
    return new Promise((resolve, reject) => {
      const sock = new WebSocket(url);
      const timer = setTimeout(() => reject(new Error("websocket timeout")),
                               10000);
      sock.onopen = () => sock.send(text);
      sock.onmessage = (ev) => { clearTimeout(timer); sock.close(); resolve(ev.data); };
      sock.onerror = () => { clearTimeout(timer); reject(new Error("websocket error")); };
    });
  },
};
