package pipeline.json;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;

/**
 * What the Glue job wrote, read back from the files themselves on the driver, in one listing of the directory (and
 * its subdirectories): {@code {files, bytes, records}}, the records being the rows of Parquet files (from their
 * footers) or the lines of text files. Data files only: names starting with {@code _} or {@code .} (markers,
 * checksums) are left out, as every reader of the dataset leaves them out. A directory that does not exist holds
 * nothing.
 */
public final class Written {
  private Written() {}

  /** {files, bytes, rows} of the Parquet files under `dir`. */
  public static long[] parquet(String dir, Configuration conf) throws IOException {
    long[] totals = new long[3];
    for (LocatedFileStatus status : dataFiles(dir, conf, totals)) {
      try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromStatus(status, conf))) {
        totals[2] += reader.getRecordCount();
      }
    }
    return totals;
  }

  /** {files, bytes, lines} of the text files under `dir`: newline-terminated lines, and a last one without. */
  public static long[] text(String dir, Configuration conf) throws IOException {
    long[] totals = new long[3];
    byte[] buffer = new byte[1 << 16];
    for (LocatedFileStatus status : dataFiles(dir, conf, totals)) {
      FileSystem fs = status.getPath().getFileSystem(conf);
      try (InputStream in = new BufferedInputStream(fs.open(status.getPath()))) {
        int read;
        byte last = '\n';
        while ((read = in.read(buffer)) > 0) {
          for (int i = 0; i < read; i++) {
            if (buffer[i] == '\n') {
              totals[2]++;
            }
          }
          last = buffer[read - 1];
        }
        if (last != '\n') {
          totals[2]++;
        }
      }
    }
    return totals;
  }

  /** The data files under `dir`, counted with their bytes into totals[0] and totals[1]. */
  private static List<LocatedFileStatus> dataFiles(String dir, Configuration conf, long[] totals) throws IOException {
    Path path = new Path(dir);
    FileSystem fs = path.getFileSystem(conf);
    List<LocatedFileStatus> files = new ArrayList<>();
    if (!fs.exists(path)) {
      return files;
    }
    RemoteIterator<LocatedFileStatus> listed = fs.listFiles(path, true);
    while (listed.hasNext()) {
      LocatedFileStatus status = listed.next();
      String name = status.getPath().getName();
      if (!name.startsWith("_") && !name.startsWith(".")) {
        files.add(status);
        totals[0]++;
        totals[1] += status.getLen();
      }
    }
    return files;
  }
}
