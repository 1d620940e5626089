import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * Starts an in-memory MongoDB wire-protocol server on 127.0.0.1.
 *
 * Usage: java -cp 'lib/*' MongoEmulator.java [port]   (port 0 = any free port)
 *
 * Prints "MONGO_EMULATOR_LISTENING <port>" once bound, so the parent learns the
 * port without racing for it. Exits when its standard input closes, so it never
 * outlives the process that started it.
 */
public class MongoEmulator {
    /** MongoDB driver 7 (Mongoose 9) refuses servers below wire version 9; report 6.0 / wire 17. */
    static final class Mongo6 implements MongoVersion {
        @Override public List<Integer> getVersionArray() { return List.of(6, 0, 0); }
        @Override public int getWireVersion() { return 17; }
    }

    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
        MemoryBackend backend = new MemoryBackend();
        backend.version(new Mongo6());
        MongoServer server = new MongoServer(backend);
        // No oplog: the service uses no change streams, and with one every write was
        // written twice and the oplog grew without bound in the emulator's heap.
        server.bind(new InetSocketAddress("127.0.0.1", port));
        System.out.println("MONGO_EMULATOR_LISTENING " + server.getLocalAddress().getPort());
        System.out.flush();

        InputStream in = System.in;
        byte[] buffer = new byte[256];
        while (in.read(buffer) != -1) {
            // keep running until the parent closes our stdin
        }
        server.shutdownNow();
        System.exit(0);
    }
}
