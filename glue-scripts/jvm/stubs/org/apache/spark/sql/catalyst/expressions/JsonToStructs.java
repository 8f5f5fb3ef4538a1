package org.apache.spark.sql.catalyst.expressions;

import org.apache.spark.sql.types.DataType;
import scala.Option;
import scala.collection.immutable.Map;

/**
 * Compile-time stand-in for Spark 3.5's {@code JsonToStructs} (a Scala case class), with only the members
 * pipeline.json.ParseLine uses, under the same names and JVM signatures. javac cannot compile a subclass against the
 * real class (it rejects the generic signatures Scala gives the inherited tree methods); the JVM links ParseLine to
 * the real class at run time. Never packaged: the Makefile compiles it apart.
 */
public class JsonToStructs {
  public JsonToStructs(DataType schema, Map<String, String> options, Expression child, Option<String> timeZoneId) {
    throw new UnsupportedOperationException("compile-time stand-in");
  }

  public DataType schema() {
    throw new UnsupportedOperationException();
  }

  public Map<String, String> options() {
    throw new UnsupportedOperationException();
  }

  public Expression child() {
    throw new UnsupportedOperationException();
  }

  public Option<String> timeZoneId() {
    throw new UnsupportedOperationException();
  }

  public DataType dataType() {
    throw new UnsupportedOperationException();
  }

  public Object nullSafeEval(Object input) {
    throw new UnsupportedOperationException();
  }

  public JsonToStructs withNewChildInternal(Expression child) {
    throw new UnsupportedOperationException();
  }

  public TimeZoneAwareExpression withTimeZone(String timeZone) {
    throw new UnsupportedOperationException();
  }
}
