// A minimal app for the docval-client local SDK (see the README, "The local SDK").
// Query parameters: sdk=ws://127.0.0.1:24727/sdk, server=<DocVal ws(s):// URL>, client=<client id>,
// simulator=1 (tick "use the simulator reader").
//
// Serve it from this machine (the SDK's default policy allows http://localhost:* and
// http://127.0.0.1:*), e.g. `python3 -m http.server -b 127.0.0.1 8000 -d examples/sdk-page`.
// By default the SDK gives the page the verdict only; name, photo and checks appear when the
// SDK's sdk.toml grants this origin `send_result = true`.
"use strict";

const params = new URLSearchParams(location.search);
const sdkUrl = params.get("sdk") || "ws://127.0.0.1:24727/sdk";
const $ = (id) => document.getElementById(id);
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

$("sdk-url").textContent = sdkUrl;
$("server").value = params.get("server") || "ws://127.0.0.1:8765/ws2/validate";
$("client-id").value = params.get("client") || "demo";
$("use-simulator").checked = params.get("simulator") === "1";

let socket = null;
let opened = false;
let keySent = false;  // a key went to the chip: ENTER_* without error now means "refused"
const readers = new Map();

function send(command) {
  socket.send(JSON.stringify(command));
}

function setStatus(text) {
  $("status").textContent = text;
}

// YYMMDD as "15 Apr 2034". Two-digit years: expiry dates are in this century; a birth year
// above this year's two digits is in the last one.
function formatDate(yymmdd, kind) {
  if (!/^\d{6}$/.test(yymmdd || "")) return yymmdd || "?";
  const yy = Number(yymmdd.slice(0, 2));
  const month = Number(yymmdd.slice(2, 4));
  const day = Number(yymmdd.slice(4, 6));
  const now = new Date().getFullYear() % 100;
  const century = kind === "birth" && yy > now ? 1900 : 2000;
  if (month < 1 || month > 12) return yymmdd;
  return `${day} ${MONTHS[month - 1]} ${century + yy}`;
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
  for (const id of ["name", "birth-date", "document"]) $(id).textContent = "";
  $("checks").replaceChildren();
  $("photo").hidden = true;
  $("photo-note").hidden = true;
  $("data-note").hidden = true;
  const verdict = $("verdict");
  if (result.major !== "ok") {
    verdict.textContent = `Not completed: ${result.reason}${result.message ? " (" + result.message + ")" : ""}`;
    verdict.className = "invalid";
    return;
  }
  if (result.valid === undefined) {
    verdict.textContent = "Completed: your server has the result";
    verdict.className = "";
    return;
  }
  verdict.textContent = result.valid ? "VALID" : "NOT VALID";
  verdict.className = result.valid ? "valid" : "invalid";
  if (!passport) {
    $("data-note").textContent =
      "The SDK gives this page the verdict only; the document's data went to your DocVal server.";
    $("data-note").hidden = false;
    return;
  }
  const mrz = passport.mrzInfo || {};
  $("name").textContent = `${mrz.primaryIdentifier || "?"}, ${(mrz.secondaryIdentifier || []).join(" ")}`;
  $("birth-date").textContent = formatDate(mrz.dateOfBirth, "birth");
  $("document").textContent =
    `${mrz.documentNumber || "?"} (${mrz.issuingState || "?"}), expires ${formatDate(mrz.dateOfExpiry, "expiry")}`;
  if (passport.facePhoto && passport.facePhoto.startsWith("/9j/")) {  // JPEG
    $("photo").src = "data:image/jpeg;base64," + passport.facePhoto;
    $("photo").hidden = false;
  } else if (passport.facePhoto) {
    $("photo-note").textContent = "The face image is JPEG 2000, which this browser cannot show.";
    $("photo-note").hidden = false;
  }
  const details = passport.passiveAuthenticationDetails || {};
  const checks = [
    ["SOD signature", details.sodSignatureValid],
    ["document signer certificate", details.documentCertificateValid],
    ["data group hashes", details.allHashesValid],
    [`chip authentication: ${passport.chipAuthenticationResult}`, passport.chipAuthenticationResult !== "FAILED"],
    [`active authentication: ${passport.activeAuthenticationResult}`, passport.activeAuthenticationResult !== "FAILED"],
  ];
  for (const [label, ok] of checks) {
    const li = document.createElement("li");
    li.className = ok ? "ok" : "bad";
    li.textContent = label;
    $("checks").append(li);
  }
}

// ENTER_MRZ / ENTER_CAN: first ask, a refused key (no error: the chip said no), or bad input.
function askForKey(message, form) {
  const kind = form === "mrz" ? "machine-readable zone data" : "card access number";
  $(form).hidden = false;
  let error = message.error || "";
  if (!error && keySent) {
    error = form === "mrz"
      ? "The chip did not accept these data. Check the document number, the date of birth and the date of expiry."
      : "The chip did not accept this card access number. Check the six digits on the data page.";
  }
  $(`${form}-error`).textContent = error;
  if (!error) {
    $(`${form}-prompt`).textContent = `Card found on ${message.reader.name}. Enter the ${kind}.`;
  }
  keySent = false;
  setStatus(`waiting for the ${kind}`);
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
      $("cancel").disabled = true;
    } else if (message.result) {
      $("mrz").hidden = true;
      $("can").hidden = true;
      $("validate").disabled = false;
      $("cancel").disabled = true;
      setStatus("finished");
      showResult(message.result);
    } else {
      setStatus("started");
    }
  },
  ACCESS_RIGHTS() {
    send({ cmd: "GET_CERTIFICATE" });
  },
  CERTIFICATE(message) {
    // Show the user who asks and where the data go, then go on. The SDK asks on its own
    // console too, unless the pair (page, server) is pre-approved in its sdk.toml.
    const d = message.description;
    $("who").textContent =
      `${d.dataGroups.join(", ")} go to ${d.serverUrl} (TLS: ${d.serverIdentity}); this page gets the ${d.resultToApp}.`;
    setStatus("waiting for permission (answer on the docval-client console if it asks)");
    send({ cmd: "ACCEPT" });
  },
  INSERT_CARD(message) {
    if (message.error) setStatus(message.error);
    else if ($("use-simulator").checked) send({ cmd: "INSERT_CARD", name: "Simulator" });
    else setStatus("put the passport on the reader");
  },
  ENTER_MRZ(message) { askForKey(message, "mrz"); },
  ENTER_CAN(message) { askForKey(message, "can"); },
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
  opened = false;
  socket.onopen = () => {
    opened = true;
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
    $("connection").textContent = opened
      ? "not connected; retrying"
      : `not connected: is docval-client sdk running, and does it allow this page (${location.origin})? retrying`;
    $("validate").disabled = true;
    setTimeout(connect, 2000);
  };
}

$("start").addEventListener("submit", (event) => {
  event.preventDefault();
  $("result").hidden = true;
  $("who").textContent = "";
  $("validate").disabled = true;
  $("cancel").disabled = false;
  keySent = false;
  const command = {
    cmd: "RUN_VALIDATION",
    serverUrl: $("server").value,
    clientId: $("client-id").value,
    sendResult: true,  // the SDK hands over the passport's data only where its sdk.toml allows
    accessKey: document.querySelector("input[name=access-key]:checked").value,
  };
  if ($("use-simulator").checked) command.reader = "Simulator";
  send(command);
});

$("cancel").addEventListener("click", () => send({ cmd: "CANCEL" }));

$("mrz").addEventListener("submit", (event) => {
  event.preventDefault();
  send({
    cmd: "SET_MRZ",
    documentNumber: $("document-number").value.trim().toUpperCase(),
    dateOfBirth: $("birth").value.trim(),
    dateOfExpiry: $("expiry").value.trim(),
  });
  keySent = true;
  $("mrz").hidden = true;
  setStatus("checking the passport");
});

$("can").addEventListener("submit", (event) => {
  event.preventDefault();
  send({ cmd: "SET_CAN", value: $("can-value").value.trim() });
  keySent = true;
  $("can").hidden = true;
  setStatus("checking the passport");
});

connect();
