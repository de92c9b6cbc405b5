// A minimal app for the docval-client local SDK (see the README, "The local SDK").
// Query parameters: sdk=ws://127.0.0.1:24727/sdk, server=<DocVal ws(s):// URL>, client=<client id>,
// simulator=1 (tick "use the simulator reader").
"use strict";

const params = new URLSearchParams(location.search);
const sdkUrl = params.get("sdk") || "ws://127.0.0.1:24727/sdk";
const $ = (id) => document.getElementById(id);

$("sdk-url").textContent = sdkUrl;
$("server").value = params.get("server") || "ws://127.0.0.1:8765/ws2/validate";
$("client-id").value = params.get("client") || "demo";
$("use-simulator").checked = params.get("simulator") === "1";

let socket = null;
const readers = new Map();

function send(command) {
  socket.send(JSON.stringify(command));
}

function setStatus(text) {
  $("status").textContent = text;
}

function showReaders() {
  const list = $("readers");
  list.replaceChildren();
  const attached = [...readers.values()].filter((r) => r.attached);
  if (attached.length === 0) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = "no reader";
    list.append(li);
  }
  for (const reader of attached) {
    const li = document.createElement("li");
    li.dataset.reader = reader.name;
    li.textContent = `${reader.name}: ${reader.card ? "card present" : "no card"}`;
    list.append(li);
  }
}

function showResult(result) {
  const passport = result.passport;
  $("result").hidden = false;
  const verdict = $("verdict");
  if (result.major !== "ok") {
    verdict.textContent = `Not completed: ${result.reason}${result.message ? " (" + result.message + ")" : ""}`;
    verdict.className = "invalid";
    return;
  }
  if (!passport) {
    verdict.textContent = "Completed: your server has the result";
    verdict.className = "";
    return;
  }
  verdict.textContent = result.valid ? "VALID" : "NOT VALID";
  verdict.className = result.valid ? "valid" : "invalid";
  const mrz = passport.mrzInfo || {};
  $("name").textContent = `${mrz.primaryIdentifier || "?"}, ${(mrz.secondaryIdentifier || []).join(" ")}`;
  $("document").textContent =
    `${mrz.documentNumber || "?"} (${mrz.issuingState || "?"}), expires ${mrz.dateOfExpiry || "?"}`;
  const photo = $("photo");
  if (passport.facePhoto && passport.facePhoto.startsWith("/9j/")) {  // JPEG; browsers cannot show JPEG 2000
    photo.src = "data:image/jpeg;base64," + passport.facePhoto;
    photo.hidden = false;
  }
  const details = passport.passiveAuthenticationDetails || {};
  const checks = [
    ["SOD signature", details.sodSignatureValid],
    ["document signer certificate", details.documentCertificateValid],
    ["data group hashes", details.allHashesValid],
    [`chip authentication: ${passport.chipAuthenticationResult}`, passport.chipAuthenticationResult !== "FAILED"],
    [`active authentication: ${passport.activeAuthenticationResult}`, passport.activeAuthenticationResult !== "FAILED"],
  ];
  const list = $("checks");
  list.replaceChildren();
  for (const [label, ok] of checks) {
    const li = document.createElement("li");
    li.className = ok ? "ok" : "bad";
    li.textContent = label;
    list.append(li);
  }
}

function askForMrz(message) {
  $("mrz").hidden = false;
  $("mrz-error").textContent = message.error || "";
  $("mrz-prompt").textContent = message.error
    ? "Please check the input."
    : `Card found on ${message.reader.name}. Enter the data from the passport's machine-readable zone.`;
  setStatus("waiting for the MRZ data");
}

const handlers = {
  READER_LIST(message) {
    readers.clear();
    for (const reader of message.reader) readers.set(reader.name, reader);
    showReaders();
  },
  READER(message) {
    if (message.name) readers.set(message.name, message);
    showReaders();
  },
  VALIDATION(message) {
    if (message.error) {
      setStatus(`could not start: ${message.error}`);
      $("validate").disabled = false;
    } else if (message.result) {
      $("mrz").hidden = true;
      $("validate").disabled = false;
      $("cancel").disabled = true;
      setStatus("finished");
      showResult(message.result);
    } else {
      setStatus("started");
    }
  },
  ACCESS_RIGHTS(message) {
    // A real app shows these to the user first; this one accepts what it asked for.
    setStatus(`reading ${message.chat.effective.join(", ")}`);
    send({ cmd: "ACCEPT" });
  },
  INSERT_CARD(message) {
    if (message.error) setStatus(message.error);
    else if ($("use-simulator").checked) send({ cmd: "INSERT_CARD", name: "Simulator" });
    else setStatus("put the passport on the reader");
  },
  ENTER_MRZ: askForMrz,
  STATUS(message) {
    const bytes = message.total ? ` (${message.done}/${message.total} bytes)` : "";
    setStatus(message.state + bytes);
  },
  BAD_STATE(message) { setStatus(`not now: ${message.error}`); },
  INVALID(message) { setStatus(`invalid command: ${message.error}`); },
  UNKNOWN_COMMAND(message) { setStatus(`unknown command: ${message.error}`); },
  INTERNAL_ERROR(message) { setStatus(`internal error: ${message.error}`); },
};

function connect() {
  socket = new WebSocket(sdkUrl);
  socket.onopen = () => {
    $("connection").textContent = "connected";
    $("validate").disabled = false;
    send({ cmd: "GET_READER_LIST" });
  };
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    const handler = handlers[message.msg];
    if (handler) handler(message);
  };
  socket.onclose = () => {
    $("connection").textContent = "not connected (is docval-client sdk running?); retrying";
    $("validate").disabled = true;
    setTimeout(connect, 2000);
  };
}

$("start").addEventListener("submit", (event) => {
  event.preventDefault();
  $("result").hidden = true;
  $("validate").disabled = true;
  $("cancel").disabled = false;
  const command = {
    cmd: "RUN_VALIDATION",
    serverUrl: $("server").value,
    clientId: $("client-id").value,
    sendResult: true,
  };
  if ($("use-simulator").checked) command.reader = "Simulator";
  send(command);
});

$("cancel").addEventListener("click", () => send({ cmd: "CANCEL" }));

$("mrz").addEventListener("submit", (event) => {
  event.preventDefault();
  send({
    cmd: "SET_MRZ",
    documentNumber: $("document-number").value,
    dateOfBirth: $("birth").value,
    dateOfExpiry: $("expiry").value,
  });
  $("mrz").hidden = true;
  setStatus("checking the passport");
});

connect();
