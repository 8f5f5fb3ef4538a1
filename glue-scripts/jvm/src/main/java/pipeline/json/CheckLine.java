package pipeline.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.ByteType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.ShortType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The Glue job's check of one NDJSON line against the dataset's recorded schema, in one streaming pass of Jackson
 * over the line (the parser Spark's own JSON reader uses, here with its RFC 8259 defaults, which Spark relaxes).
 *
 * <p>{@code call(line)}, the line's UTF-8 bytes, returns null when the line is one JSON object whose values fit the
 * schema the instance was made with and
 * which has no field the schema lacks, else the reason, first match wins:
 * <ul>
 *   <li>{@code blank}: only JSON whitespace;</li>
 *   <li>{@code invalid_json}: not RFC 8259 JSON (single quotes, NaN, leading zeros, unquoted names, comments, a
 *       control character in a string, text after the value, truncated);</li>
 *   <li>{@code multiple_values}: several JSON values separated by commas ({@code {...},{...}});</li>
 *   <li>{@code not_an_object}: valid JSON that is not an object;</li>
 *   <li>{@code duplicate_name}: an object, at any depth, with the same name twice;</li>
 *   <li>{@code empty_name}: a field named {@code ""} where a column would hold it (no column can have that name);
 *       inside a map or a string field it is data like any other;</li>
 *   <li>{@code type_mismatch}: a value whose JSON type the schema's type cannot hold (a string field holds any
 *       value, as its JSON text; a double field any number; an integral field an integer in its range);</li>
 *   <li>{@code unknown_field}: a field the schema does not have, at any depth (in a struct, in an array of structs),
 *       whose value carries data: null, {@code {}}, {@code []} and objects or arrays of only those carry none and
 *       are not reported.</li>
 * </ul>
 *
 * <p>The schema is Spark's schema JSON ({@code StructType.json()}) with the fields' source names, given to the
 * constructor: the job registers one function per schema, so no call compares or parses it again. The line comes
 * as bytes, which Jackson reads without decoding them to a string first.
 *
 * <p>Names are checked for duplicates by the walk itself, against the schema's fields (a bit per field, no set of
 * names per object), and a number is converted only when its digits could leave an integral type's range.
 */
public final class CheckLine implements UDF1<byte[], String> {
  private static final long serialVersionUID = 2L;

  /** Jackson's defaults are RFC 8259's grammar. */
  private static final JsonFactory PLAIN = JsonFactory.builder().build();

  private final String schemaJson;
  private transient Node root;

  public CheckLine(String schemaJson) {
    this.schemaJson = schemaJson;
  }

  @Override
  public String call(byte[] line) {
    if (line == null || isBlank(line)) {
      return "blank";
    }
    if (root == null) {
      root = Node.of(DataType.fromJson(schemaJson));
    }
    Node node = root;
    Flags flags = new Flags();
    try (JsonParser parser = PLAIN.createParser(line)) {
      JsonToken first = parser.nextToken();
      if (first != JsonToken.START_OBJECT) {
        parser.skipChildren();
        return parser.nextToken() == null ? "not_an_object" : afterValue(line);
      }
      check(parser, node, flags);
      if (parser.nextToken() != null) {
        return afterValue(line);
      }
    } catch (JsonParseException error) {
      return afterValue(line);
    } catch (IOException | RuntimeException error) {
      return "invalid_json";
    }
    if (flags.duplicate) {
      return "duplicate_name";
    }
    if (flags.emptyName) {
      return "empty_name";
    }
    if (flags.mismatch) {
      return "type_mismatch";
    }
    return flags.unknown ? "unknown_field" : null;
  }

  private static boolean isBlank(byte[] line) {
    for (byte c : line) {
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
        return false;
      }
    }
    return true;
  }

  /** The reason for a line that is not one valid value: several values separated by commas, or invalid. */
  private static String afterValue(byte[] line) {
    byte[] wrapped = new byte[line.length + 2];
    wrapped[0] = '[';
    System.arraycopy(line, 0, wrapped, 1, line.length);
    wrapped[line.length + 1] = ']';
    try (JsonParser parser = PLAIN.createParser(wrapped)) {
      parser.nextToken();
      parser.skipChildren();
      return parser.nextToken() == null ? "multiple_values" : "invalid_json";
    } catch (IOException | RuntimeException error) {
      return "invalid_json";
    }
  }

  /** Checks the value at the parser's current token against `node`, leaving the parser on its last token. */
  private static void check(JsonParser parser, Node node, Flags flags) throws IOException {
    JsonToken token = parser.currentToken();
    if (token == JsonToken.VALUE_NULL) {
      return;
    }
    switch (node.kind) {
      case ANY:
        if (token == JsonToken.START_OBJECT || token == JsonToken.START_ARRAY) {
          carriesData(parser, flags, false);
        }
        return;
      case STRUCT:
        if (token != JsonToken.START_OBJECT) {
          flags.mismatch = true;
          carriesData(parser, flags, false);
          return;
        }
        long seen = 0L;
        boolean[] seenMany = node.fields.size() > 64 ? new boolean[node.fields.size()] : null;
        HashSet<String> others = null;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
          String name = parser.currentName();
          Node child = node.fields.get(name);
          parser.nextToken();
          if (child != null) {
            if (seenMany != null) {
              flags.duplicate |= seenMany[child.slot];
              seenMany[child.slot] = true;
            } else {
              flags.duplicate |= (seen & (1L << child.slot)) != 0;
              seen |= 1L << child.slot;
            }
            check(parser, child, flags);
            continue;
          }
          if (others == null) {
            others = new HashSet<>();
          }
          flags.duplicate |= !others.add(name);
          if (name.isEmpty()) {
            flags.emptyName = true;
            carriesData(parser, flags, true);
          } else if (carriesData(parser, flags, true)) {
            flags.unknown = true;
          }
        }
        return;
      case MAP:
        if (token != JsonToken.START_OBJECT) {
          flags.mismatch = true;
          carriesData(parser, flags, false);
          return;
        }
        HashSet<String> keys = new HashSet<>();
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
          flags.duplicate |= !keys.add(parser.currentName());
          parser.nextToken();
          check(parser, node.element, flags);
        }
        return;
      case ARRAY:
        if (token != JsonToken.START_ARRAY) {
          flags.mismatch = true;
          carriesData(parser, flags, false);
          return;
        }
        while (parser.nextToken() != JsonToken.END_ARRAY) {
          check(parser, node.element, flags);
        }
        return;
      case BOOLEAN:
        if (token != JsonToken.VALUE_TRUE && token != JsonToken.VALUE_FALSE) {
          flags.mismatch = true;
          carriesData(parser, flags, false);
        }
        return;
      case FRACTIONAL:
        if (token != JsonToken.VALUE_NUMBER_INT && token != JsonToken.VALUE_NUMBER_FLOAT) {
          flags.mismatch = true;
          carriesData(parser, flags, false);
        }
        return;
      case INTEGRAL:
        if (token != JsonToken.VALUE_NUMBER_INT) {
          flags.mismatch = true;
          carriesData(parser, flags, false);
          return;
        }
        if (parser.getTextLength() <= node.safeChars) {
          return;
        }
        JsonParser.NumberType type = parser.getNumberType();
        if (type == JsonParser.NumberType.BIG_INTEGER) {
          flags.mismatch = true;
        } else if (node.max < Long.MAX_VALUE) {
          long value = parser.getLongValue();
          if (value > node.max || value < -node.max - 1) {
            flags.mismatch = true;
          }
        }
        return;
      default:
        // Dates, timestamps, binary: Spark's own conversion decides (a failure is its corrupt record).
        if (token == JsonToken.START_OBJECT || token == JsonToken.START_ARRAY) {
          carriesData(parser, flags, false);
        }
    }
  }

  /**
   * Walks the value at the current token, which the schema does not type (a field it lacks, a string field's object
   * or array, a value of another type), checking its names for duplicates; returns whether it holds a non-null scalar
   * somewhere. With {@code names} (the value of a field the schema lacks, whose names would become columns), an
   * empty name in it sets the flag.
   */
  private static boolean carriesData(JsonParser parser, Flags flags, boolean names) throws IOException {
    JsonToken token = parser.currentToken();
    if (token == JsonToken.VALUE_NULL) {
      return false;
    }
    if (token != JsonToken.START_OBJECT && token != JsonToken.START_ARRAY) {
      return true;
    }
    ArrayList<HashSet<String>> open = new ArrayList<>(); // an object's names so far; null for an array
    open.add(token == JsonToken.START_OBJECT ? new HashSet<>() : null);
    boolean data = false;
    while (!open.isEmpty()) {
      JsonToken next = parser.nextToken();
      if (next == null) {
        throw new IOException("unexpected end of input");
      }
      if (next == JsonToken.START_OBJECT) {
        open.add(new HashSet<>());
      } else if (next == JsonToken.START_ARRAY) {
        open.add(null);
      } else if (next == JsonToken.END_OBJECT || next == JsonToken.END_ARRAY) {
        open.remove(open.size() - 1);
      } else if (next == JsonToken.FIELD_NAME) {
        String name = parser.currentName();
        flags.duplicate |= !open.get(open.size() - 1).add(name);
        flags.emptyName |= names && name.isEmpty();
      } else if (next != JsonToken.VALUE_NULL) {
        data = true;
      }
    }
    return data;
  }

  private static final class Flags {
    boolean duplicate;
    boolean mismatch;
    boolean unknown;
    boolean emptyName;
  }

  private enum Kind { ANY, STRUCT, MAP, ARRAY, BOOLEAN, FRACTIONAL, INTEGRAL, OTHER }

  /** The schema as the check walks it: a kind per type, children by source name. */
  private static final class Node {
    final Kind kind;
    final Map<String, Node> fields;
    final Node element;
    final long max;
    /** Characters of an integer (sign included) that always fit `max`: no conversion needed. */
    final int safeChars;
    /** This field's index among its struct's fields. */
    int slot;

    private Node(Kind kind, Map<String, Node> fields, Node element, long max) {
      this.kind = kind;
      this.fields = fields;
      this.element = element;
      this.max = max;
      this.safeChars = max > 0 ? String.valueOf(max).length() - 1 : 0;
    }

    static Node of(DataType type) {
      if (type instanceof StructType) {
        Map<String, Node> fields = new HashMap<>();
        for (StructField field : ((StructType) type).fields()) {
          Node child = of(field.dataType());
          child.slot = fields.size();
          fields.put(field.name(), child);
        }
        return new Node(Kind.STRUCT, fields, null, 0);
      }
      if (type instanceof ArrayType) {
        return new Node(Kind.ARRAY, null, of(((ArrayType) type).elementType()), 0);
      }
      if (type instanceof MapType) {
        return new Node(Kind.MAP, null, of(((MapType) type).valueType()), 0);
      }
      if (type instanceof StringType) {
        return new Node(Kind.ANY, null, null, 0);
      }
      if (type instanceof BooleanType) {
        return new Node(Kind.BOOLEAN, null, null, 0);
      }
      if (type instanceof DoubleType || type instanceof FloatType || type instanceof DecimalType) {
        return new Node(Kind.FRACTIONAL, null, null, 0);
      }
      if (type instanceof LongType) {
        return new Node(Kind.INTEGRAL, null, null, Long.MAX_VALUE);
      }
      if (type instanceof IntegerType) {
        return new Node(Kind.INTEGRAL, null, null, Integer.MAX_VALUE);
      }
      if (type instanceof ShortType) {
        return new Node(Kind.INTEGRAL, null, null, Short.MAX_VALUE);
      }
      if (type instanceof ByteType) {
        return new Node(Kind.INTEGRAL, null, null, Byte.MAX_VALUE);
      }
      return new Node(Kind.OTHER, null, null, 0);
    }
  }
}
