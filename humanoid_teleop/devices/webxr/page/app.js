// humanoid_teleop vr_bridge page: streams WebXR head, hand and controller poses to the
// vr_bridge_node over a WebSocket (binary protocol version 1, see
// humanoid_teleop/devices/webxr/protocol.py) and shows the robot camera JPEGs it sends back.
'use strict';

const VERSION = 1;
const KIND_POSE = 1;
const KIND_CAMERA = 2;
const HEADER_BYTES = 16;
const FLAG_HEAD = 1, FLAG_LEFT_HAND = 2, FLAG_RIGHT_HAND = 4, FLAG_LEFT_CTRL = 8, FLAG_RIGHT_CTRL = 16;
const MAX_BUFFERED_BYTES = 64 * 1024;  // drop frames rather than queue stale ones
const JOINTS = [
  'wrist',
  'thumb-metacarpal', 'thumb-phalanx-proximal', 'thumb-phalanx-distal', 'thumb-tip',
  'index-finger-metacarpal', 'index-finger-phalanx-proximal',
  'index-finger-phalanx-intermediate', 'index-finger-phalanx-distal', 'index-finger-tip',
  'middle-finger-metacarpal', 'middle-finger-phalanx-proximal',
  'middle-finger-phalanx-intermediate', 'middle-finger-phalanx-distal', 'middle-finger-tip',
  'ring-finger-metacarpal', 'ring-finger-phalanx-proximal',
  'ring-finger-phalanx-intermediate', 'ring-finger-phalanx-distal', 'ring-finger-tip',
  'pinky-finger-metacarpal', 'pinky-finger-phalanx-proximal',
  'pinky-finger-phalanx-intermediate', 'pinky-finger-phalanx-distal', 'pinky-finger-tip',
];

const state = window.bridgeStatus = {
  connected: false, welcome: null, error: null, framesSent: 0, framesDropped: 0,
  cameraFrames: 0, session: false,
};
const statusEl = document.getElementById('status');
const enterButton = document.getElementById('enter');
const token = new URLSearchParams(location.hash.slice(1)).get('token') || '';

function show() {
  statusEl.textContent =
    `server: ${state.connected ? 'connected' : 'not connected'}${state.error ? ' (' + state.error + ')' : ''}\n` +
    `frames sent: ${state.framesSent}, dropped: ${state.framesDropped}, camera frames: ${state.cameraFrames}`;
}

// ------------------------------------------------------------------ socket
let ws = null;
function connect() {
  ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => ws.send(JSON.stringify({type: 'hello', version: VERSION, token}));
  ws.onmessage = (event) => {
    if (typeof event.data === 'string') {
      const msg = JSON.parse(event.data);
      if (msg.type === 'welcome') { state.connected = true; state.welcome = msg; }
      if (msg.type === 'error') { state.error = msg.reason; }
      show();
      return;
    }
    const view = new DataView(event.data);
    if (view.getUint8(0) !== VERSION || view.getUint8(1) !== KIND_CAMERA) return;
    const eye = view.getUint8(2);
    const blob = new Blob([new Uint8Array(event.data, HEADER_BYTES)], {type: 'image/jpeg'});
    createImageBitmap(blob).then((bitmap) => { cameraImages[eye] = bitmap; cameraDirty[eye] = true; });
    state.cameraFrames += 1;
  };
  ws.onclose = () => { state.connected = false; show(); setTimeout(connect, 1000); };
  show();
}

// ------------------------------------------------------------------ encoding
const frameBuffer = new ArrayBuffer(HEADER_BYTES + 4 * (7 + 2 * 25 * 7 + 2 * 19));
const frameView = new DataView(frameBuffer);
let seq = 0;

function putPose(offset, pose) {
  const p = pose.transform.position, q = pose.transform.orientation;
  const values = [p.x, p.y, p.z, q.x, q.y, q.z, q.w];
  for (let i = 0; i < 7; i++) frameView.setFloat32(offset + 4 * i, values[i], true);
  return offset + 28;
}

function encodeFrame(frame, refSpace, viewerPose) {
  let flags = 0;
  let offset = HEADER_BYTES;
  const sources = {left: {}, right: {}};
  for (const source of frame.session.inputSources) {
    if (source.handedness !== 'left' && source.handedness !== 'right') continue;
    if (source.hand) sources[source.handedness].hand = source;
    else if (source.gripSpace) sources[source.handedness].ctrl = source;
  }
  if (viewerPose) { flags |= FLAG_HEAD; offset = putPose(offset, viewerPose); }
  for (const [side, flag] of [['left', FLAG_LEFT_HAND], ['right', FLAG_RIGHT_HAND]]) {
    const source = sources[side].hand;
    if (!source) continue;
    const poses = JOINTS.map((name) => frame.getJointPose(source.hand.get(name), refSpace));
    if (poses.some((pose) => !pose)) continue;
    flags |= flag;
    for (const pose of poses) offset = putPose(offset, pose);
  }
  for (const [side, flag] of [['left', FLAG_LEFT_CTRL], ['right', FLAG_RIGHT_CTRL]]) {
    const source = sources[side].ctrl;
    if (!source) continue;
    const pose = frame.getPose(source.gripSpace, refSpace);
    if (!pose) continue;
    flags |= flag;
    offset = putPose(offset, pose);
    const pad = source.gamepad;
    for (let i = 0; i < 8; i++) {
      const b = pad && pad.buttons[i] ? pad.buttons[i].value : 0;
      frameView.setFloat32(offset, b, true); offset += 4;
    }
    for (let i = 0; i < 4; i++) {
      const a = pad && pad.axes[i] !== undefined ? pad.axes[i] : 0;
      frameView.setFloat32(offset, a, true); offset += 4;
    }
  }
  frameView.setUint8(0, VERSION);
  frameView.setUint8(1, KIND_POSE);
  frameView.setUint16(2, flags, true);
  frameView.setUint32(4, seq++ >>> 0, true);
  frameView.setFloat64(8, performance.timeOrigin + performance.now(), true);
  return frameBuffer.slice(0, offset);
}

// ------------------------------------------------------------------ camera view
const cameraImages = [null, null];
const cameraDirty = [false, false];
let gl = null, program = null, textures = [];

function setupGl() {
  const vs = 'attribute vec2 p; varying vec2 uv; void main(){ uv = vec2(p.x*0.5+0.5, 0.5-p.y*0.5); gl_Position = vec4(p*0.8, 0.0, 1.0); }';
  const fs = 'precision mediump float; varying vec2 uv; uniform sampler2D t; void main(){ gl_FragColor = texture2D(t, uv); }';
  const compile = (type, src) => { const s = gl.createShader(type); gl.shaderSource(s, src); gl.compileShader(s); return s; };
  program = gl.createProgram();
  gl.attachShader(program, compile(gl.VERTEX_SHADER, vs));
  gl.attachShader(program, compile(gl.FRAGMENT_SHADER, fs));
  gl.linkProgram(program);
  const quad = gl.createBuffer();
  gl.bindBuffer(gl.ARRAY_BUFFER, quad);
  gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
  textures = [gl.createTexture(), gl.createTexture()];
  for (const tex of textures) {
    gl.bindTexture(gl.TEXTURE_2D, tex);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
  }
}

function drawCamera(glLayer, viewerPose) {
  gl.bindFramebuffer(gl.FRAMEBUFFER, glLayer.framebuffer);
  gl.clearColor(0.05, 0.05, 0.05, 1);
  gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
  for (let eye = 0; eye < 2; eye++) {
    if (cameraDirty[eye] && cameraImages[eye]) {
      gl.bindTexture(gl.TEXTURE_2D, textures[eye]);
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGB, gl.RGB, gl.UNSIGNED_BYTE, cameraImages[eye]);
      cameraDirty[eye] = false;
    }
  }
  if (!viewerPose || !cameraImages[0]) return;
  gl.useProgram(program);
  const loc = gl.getAttribLocation(program, 'p');
  gl.enableVertexAttribArray(loc);
  gl.vertexAttribPointer(loc, 2, gl.FLOAT, false, 0, 0);
  for (const view of viewerPose.views) {
    const vp = glLayer.getViewport(view);
    gl.viewport(vp.x, vp.y, vp.width, vp.height);
    // Head-locked view of the robot camera; the right eye gets the right camera if any.
    const eye = view.eye === 'right' && cameraImages[1] ? 1 : 0;
    gl.bindTexture(gl.TEXTURE_2D, textures[eye]);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
  }
}

// ------------------------------------------------------------------ XR session
async function startXR() {
  const mode = (await navigator.xr.isSessionSupported('immersive-vr')) ? 'immersive-vr' : 'immersive-ar';
  const session = await navigator.xr.requestSession(mode, {
    requiredFeatures: ['local-floor'], optionalFeatures: ['hand-tracking'],
  });
  const canvas = document.getElementById('gl');
  gl = canvas.getContext('webgl', {xrCompatible: true});
  setupGl();
  const glLayer = new XRWebGLLayer(session, gl);
  session.updateRenderState({baseLayer: glLayer});
  const refSpace = await session.requestReferenceSpace('local-floor');
  state.session = true;
  session.addEventListener('end', () => { state.session = false; });
  const onFrame = (time, frame) => {
    session.requestAnimationFrame(onFrame);
    const viewerPose = frame.getViewerPose(refSpace);
    if (ws && ws.readyState === WebSocket.OPEN && state.connected) {
      if (ws.bufferedAmount < MAX_BUFFERED_BYTES) {
        ws.send(encodeFrame(frame, refSpace, viewerPose));
        state.framesSent += 1;
      } else {
        state.framesDropped += 1;
      }
    }
    drawCamera(glLayer, viewerPose);
  };
  session.requestAnimationFrame(onFrame);
  return mode;
}
window.startXR = startXR;

async function main() {
  if (new URLSearchParams(location.search).get('emulate') === 'quest3') {
    // Test mode: the IWER runtime emulates a Meta Quest 3 with tracked hands.
    await new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = '/emulator/iwer.js'; s.onload = resolve; s.onerror = reject;
      document.head.appendChild(s);
    });
    const device = new IWER.XRDevice(IWER.metaQuest3);
    device.installRuntime({forceInstall: true});
    device.primaryInputMode = 'hand';
    window.xrDevice = device;
  }
  connect();
  if (navigator.xr) {
    enterButton.disabled = false;
    enterButton.onclick = () => startXR().catch((err) => { state.error = String(err); show(); });
  } else {
    state.error = 'WebXR is not available in this browser';
    show();
  }
}
main();
