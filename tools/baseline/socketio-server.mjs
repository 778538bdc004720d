// SPDX-License-Identifier: GPL-3.0-or-later
// The baseline parley is measured against: the seeds' broadcast design, one
// Socket.IO room. Every client joins the room; each "caption" a client emits
// is broadcast to the room as a final caption, the same shape parley sends.
//
//   npm ci --prefix tools/baseline && node tools/baseline/socketio-server.mjs [--port N]
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const portArg = process.argv.indexOf('--port');
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 0;
const http = createServer();
const io = new Server(http, { transports: ['websocket'], serveClient: false, perMessageDeflate: false });
let seq = 0;
io.on('connection', (socket) => {
  socket.join('captions');
  socket.on('caption', (m) => {
    seq += 1;
    io.to('captions').emit('final', { type: 'final', seq, language: 'en', text: String(m && m.text) });
  });
});
http.listen(port, '127.0.0.1', () => {
  console.log(`socket.io baseline listening on port ${http.address().port}`);
});
