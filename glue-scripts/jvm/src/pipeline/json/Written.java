package pipeline.json;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;

/**
 * Counts of what the Glue job wrote, read back from the files themselves on the driver: the rows of a directory's
 * Parquet files from their footers, and the lines of a directory's text files. Data files only: names starting with
 * {@code _} or {@code .} (markers, checksums) are left out, as every reader of the dataset leaves them out.
 */
public final class Written {
  private Written() {}

  /** The rows of the Parquet files directly under `dir` (0 when it does not exist), from their footers. */
  public static long parquetRows(String dir, Configuration conf) throws IOException {
    long rows = 0;
    for (FileStatus status : dataFiles(dir, conf)) {
      try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromStatus(status, conf))) {
        rows += reader.getRecordCount();
      }
    }
    return rows;
  }

  /** The lines (newline-terminated, and a last one without) of the text files directly under `dir`. */
  public static long textLines(String dir, Configuration conf) throws IOException {
    long lines = 0;
    byte[] buffer = new byte[1 << 16];
    for (FileStatus status : dataFiles(dir, conf)) {
      FileSystem fs = status.getPath().getFileSystem(conf);
      try (InputStream in = new BufferedInputStream(fs.open(status.getPath()))) {
        int read;
        byte last = '\n';
        while ((read = in.read(buffer)) > 0) {
          for (int i = 0; i < read; i++) {
            if (buffer[i] == '\n') {
              lines++;
            }
          }
          last = buffer[read - 1];
        }
        if (last != '\n') {
          lines++;
        }
      }
    }
    return lines;
  }

  private static FileStatus[] dataFiles(String dir, Configuration conf) throws IOException {
    Path path = new Path(dir);
    FileSystem fs = path.getFileSystem(conf);
    if (!fs.exists(path)) {
      return new FileStatus[0];
    }
    return java.util.Arrays.stream(fs.listStatus(path))
        .filter(s -> s.isFile() && !s.getPath().getName().startsWith("_") && !s.getPath().getName().startsWith("."))
        .toArray(FileStatus[]::new);
  }
}
