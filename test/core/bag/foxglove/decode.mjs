// Decode every message of MCAP files with Foxglove's own libraries and print a JSON summary.
//
//   node decode.mjs FILE.mcap [FILE.mcap ...]
//   node decode.mjs --schemas < texts.json   (a JSON list of ros2msg texts → list of errors)
//
// Per file: the indexed reader (what Foxglove opens a file with; @mcap/support decompression,
// chunk CRCs validated) reads every message; each channel's schema is parsed by
// @foxglove/rosmsg (ros2: true) and each message deserialized by
// @foxglove/rosmsg2-serialization. The stream reader (CRC validation on) reads the file once
// more from the start. Output: {"<file>": {"ok": bool, "error": str, "topics": {topic:
// count}, "messages": n, "stream_messages": n, "digest": sha256 over (topic, log time, data)
// in log-time order}}. One bad file never stops the others.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { open, readFile } from "node:fs/promises";

import { McapIndexedReader, McapStreamReader } from "@mcap/core";
import { loadDecompressHandlers } from "@mcap/support";
import { parse } from "@foxglove/rosmsg";
import { MessageReader } from "@foxglove/rosmsg2-serialization";

function fileReadable(handle) {
  return {
    async size() {
      return BigInt((await handle.stat()).size);
    },
    async read(offset, length) {
      const buffer = new Uint8Array(Number(length));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, Number(offset));
      if (bytesRead !== buffer.length) {
        throw new Error(`short read at ${offset}: ${bytesRead} of ${length} bytes`);
      }
      return buffer;
    },
  };
}

function readerFor(schema, cache) {
  if (!cache.has(schema.id)) {
    if (schema.encoding !== "ros2msg") {
      throw new Error(`schema ${schema.name}: encoding ${schema.encoding}, not ros2msg`);
    }
    const text = new TextDecoder().decode(schema.data);
    cache.set(schema.id, new MessageReader(parse(text, { ros2: true })));
  }
  return cache.get(schema.id);
}

async function indexed(path, handlers) {
  const handle = await open(path, "r");
  try {
    const reader = await McapIndexedReader.Initialize({
      readable: fileReadable(handle),
      decompressHandlers: handlers,
    });
    const cache = new Map();
    const topics = {};
    const digest = createHash("sha256");
    let messages = 0;
    for await (const message of reader.readMessages({ validateCrcs: true })) {
      const channel = reader.channelsById.get(message.channelId);
      const schema = reader.schemasById.get(channel.schemaId);
      readerFor(schema, cache).readMessage(message.data);
      topics[channel.topic] = (topics[channel.topic] ?? 0) + 1;
      digest.update(`${channel.topic}\0${message.logTime}\0`);
      digest.update(message.data);
      messages += 1;
    }
    return { topics, messages, digest: digest.digest("hex") };
  } finally {
    await handle.close();
  }
}

async function stream(path, handlers) {
  const reader = new McapStreamReader({ decompressHandlers: handlers, validateCrcs: true });
  reader.append(await readFile(path));
  let messages = 0;
  for (let record; (record = reader.nextRecord()); ) {
    if (record.type === "Message") {
      messages += 1;
    }
  }
  if (!reader.done()) {
    throw new Error("stream reader: file ends before its footer");
  }
  return messages;
}

function parseSchemas() {
  const texts = JSON.parse(readFileSync(0, "utf8"));
  const errors = texts.map((text) => {
    try {
      parse(text, { ros2: true });
      return null;
    } catch (err) {
      return String(err?.message ?? err);
    }
  });
  process.stdout.write(JSON.stringify(errors));
}

if (process.argv[2] === "--schemas") {
  parseSchemas();
  process.exit(0);
}
const handlers = await loadDecompressHandlers();
const out = {};
for (const path of process.argv.slice(2)) {
  try {
    const result = await indexed(path, handlers);
    const streamed = await stream(path, handlers);
    out[path] = { ok: true, error: "", ...result, stream_messages: streamed };
  } catch (err) {
    out[path] = { ok: false, error: String(err?.message ?? err), topics: {}, messages: 0 };
  }
}
process.stdout.write(JSON.stringify(out));
