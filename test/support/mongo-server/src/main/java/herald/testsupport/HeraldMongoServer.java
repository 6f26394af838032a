package herald.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.List;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

/**
 * Test-only MongoDB wire-protocol server (mongo-java-server, in-memory backend).
 *
 * Usage: {@code java -jar herald-mongo-server.jar [port]} (0 or nothing = random port). Binds 127.0.0.1 only,
 * prints {@code LISTENING <port>} on stdout once it accepts connections, and exits when stdin reaches EOF so that a
 * crashed test runner never leaves an orphaned server behind.
 */
public final class HeraldMongoServer {

    /**
     * mongo-java-server's newest built-in version (MONGO_5_0) advertises wire version 8, below the minimum of the
     * Node driver 7.x (wire 9, MongoDB 4.4), which then refuses to connect. The advertised version only changes the
     * hello/buildInfo answers, so we claim the lowest version the driver accepts: the driver then uses no
     * feature newer than 4.4.
     */
    private static final MongoVersion ADVERTISED_VERSION = new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
            return List.of(4, 4, 0);
        }

        @Override
        public int getWireVersion() {
            return 9;
        }
    };

    private HeraldMongoServer() {
    }

    public static void main(String[] args) {
        // Before any logger exists: keep slf4j-simple quiet and off stdout, which carries the LISTENING line.
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", System.getProperty("herald.logLevel", "warn"));
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");

        int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
        MemoryBackend backend = new MemoryBackend();
        backend.version(ADVERTISED_VERSION);
        MongoServer server = new MongoServer(backend);
        server.bind("127.0.0.1", port);
        InetSocketAddress address = server.getLocalAddress();

        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow, "herald-mongo-server-shutdown"));

        System.out.println("LISTENING " + address.getPort());
        System.out.flush();

        waitForStdinEof(System.in);
        System.exit(0);
    }

    private static void waitForStdinEof(InputStream in) {
        byte[] buffer = new byte[256];
        try {
            while (in.read(buffer) >= 0) {
                // The parent never writes; anything it sends is ignored.
            }
        } catch (IOException e) {
            // A broken pipe means the parent is gone: shut down like on EOF.
        }
    }
}
