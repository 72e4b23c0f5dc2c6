package dev.vmonboard.ssh;

/**
 * Sees what a connection's shells are sent, for the benchmark that replays a run's exact bytes with
 * a bare client ({@code LimitBenchmark}) and the test of that replay. Not for production use: a tap
 * sees tokens. {@link SshConnector#tap} installs one; none is installed by default.
 */
interface ShellTap {

  /**
   * Called on the thread that opened a connection, after its login; returns what sees that
   * connection's shells, or {@code null} to see nothing of it.
   */
  Connection connected(String where);

  /** What one connection's shells are sent, in order. */
  interface Connection {

    /** An exec channel running {@code command} was opened; the chunks that follow go to it. */
    void shellOpened(String command);

    /**
     * {@code chunk} was written to the shell's standard input (the array is the tap's to keep,
     * never to change); its answer is complete with the line {@code END STATUS} whose {@code END}
     * is {@code endMarker}.
     */
    void chunkSent(byte[] chunk, String endMarker);
  }
}
