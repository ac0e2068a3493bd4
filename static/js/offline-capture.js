/* The capture time of a photo, read from the original file before the browser scales it (scaling
 * draws bare pixels and so throws the metadata away). EXIF DateTimeOriginal with its
 * OffsetTimeOriginal where present (else DateTime with OffsetTime); a time without an offset is the
 * phone's own clock, read in the phone's time zone. The result is an ISO 8601 string with its
 * offset, sent with the upload as "captured_at"; the server checks it again.
 *
 * Pure functions (parseExif, toIso) are exported for the unit tests (tests/js/*.mjs under Node);
 * in the page, window.CaptureTime.read(file) returns a promise of the ISO string or null.
 */
(function (global) {
  "use strict";

  var TAG_EXIF_IFD = 0x8769, TAG_DATETIME = 0x0132;
  var TAG_ORIGINAL = 0x9003, TAG_OFFSET_ORIGINAL = 0x9011, TAG_OFFSET = 0x9010;

  function ascii(view, start, count) {
    var out = "";
    for (var i = 0; i < count && start + i < view.byteLength; i++) {
      var c = view.getUint8(start + i);
      if (c === 0) break;
      out += String.fromCharCode(c);
    }
    return out;
  }

  function readIfd(view, tiff, offset, little, wanted) {
    var found = {};
    if (offset + 2 > view.byteLength) return found;
    var n = view.getUint16(offset, little);
    for (var i = 0; i < n; i++) {
      var entry = offset + 2 + i * 12;
      if (entry + 12 > view.byteLength) break;
      var tag = view.getUint16(entry, little);
      if (wanted.indexOf(tag) < 0) continue;
      var type = view.getUint16(entry + 2, little);
      var count = view.getUint32(entry + 4, little);
      if (type === 2) {
        var start = count <= 4 ? entry + 8 : tiff + view.getUint32(entry + 8, little);
        found[tag] = ascii(view, start, count);
      } else if (type === 4 || type === 13) {
        found[tag] = view.getUint32(entry + 8, little);
      }
    }
    return found;
  }

  /** {stamp: "YYYY:MM:DD HH:MM:SS", offset: "+03:00"|null} from a JPEG's bytes, or null. */
  function parseExif(buffer) {
    try {
      var view = new DataView(buffer);
      if (view.byteLength < 4 || view.getUint16(0) !== 0xFFD8) return null;
      var pos = 2;
      while (pos + 4 <= view.byteLength) {
        var marker = view.getUint16(pos);
        if ((marker & 0xFF00) !== 0xFF00 || marker === 0xFFDA) return null; // start of scan: no EXIF
        var length = view.getUint16(pos + 2);
        if (marker === 0xFFE1 && ascii(view, pos + 4, 4) === "Exif") {
          var tiff = pos + 10;
          var little = view.getUint16(tiff) === 0x4949;
          var ifd0 = readIfd(view, tiff, tiff + view.getUint32(tiff + 4, little), little, [TAG_EXIF_IFD, TAG_DATETIME]);
          var sub = ifd0[TAG_EXIF_IFD] ? readIfd(view, tiff, tiff + ifd0[TAG_EXIF_IFD], little,
            [TAG_ORIGINAL, TAG_OFFSET_ORIGINAL, TAG_OFFSET]) : {};
          if (sub[TAG_ORIGINAL]) return { stamp: sub[TAG_ORIGINAL], offset: sub[TAG_OFFSET_ORIGINAL] || null };
          if (ifd0[TAG_DATETIME]) return { stamp: ifd0[TAG_DATETIME], offset: sub[TAG_OFFSET] || null };
          return null;
        }
        pos += 2 + length;
      }
    } catch (e) { /* a broken file: no capture time */ }
    return null;
  }

  var STAMP = /^(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2}):(\d{2})/;
  var OFFSET = /^[+-]\d{2}:\d{2}$/;

  /** The capture time as ISO 8601 with an offset; without one, in the phone's zone (as UTC). */
  function toIso(found) {
    if (!found || !found.stamp) return null;
    var m = STAMP.exec(found.stamp);
    if (!m) return null;
    if (found.offset && OFFSET.test(found.offset)) {
      return m[1] + "-" + m[2] + "-" + m[3] + "T" + m[4] + ":" + m[5] + ":" + m[6] + found.offset;
    }
    var local = new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
    return isNaN(local.getTime()) ? null : local.toISOString();
  }

  /** A promise of the ISO capture time of a File/Blob (only its first 256 kB are read), or null. */
  function read(file) {
    if (!file || typeof file.slice !== "function") return Promise.resolve(null);
    var head = file.slice(0, 256 * 1024);
    var reading = typeof head.arrayBuffer === "function" ? head.arrayBuffer() : new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(reader.result); };
      reader.onerror = reject;
      reader.readAsArrayBuffer(head);
    });
    return reading.then(function (buffer) { return toIso(parseExif(buffer)); }, function () { return null; });
  }

  var api = { parseExif: parseExif, toIso: toIso, read: read };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else global.CaptureTime = api;
})(typeof window !== "undefined" ? window : globalThis);
