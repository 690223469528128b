package heimdall.analysis.nori;

import org.elasticsearch.plugin.settings.AnalysisSettings;
import org.elasticsearch.plugin.settings.BooleanSetting;
import org.elasticsearch.plugin.settings.ListSetting;
import org.elasticsearch.plugin.settings.StringSetting;

import java.util.List;

/** The settings of the official analysis-nori tokenizer that an index definition can inline. */
@AnalysisSettings
public interface NoriTokenizerSettings {
    @StringSetting(path = "decompound_mode", defaultValue = "discard")
    String decompoundMode();

    @BooleanSetting(path = "discard_punctuation", defaultValue = true)
    boolean discardPunctuation();

    @ListSetting(path = "user_dictionary_rules")
    List<String> userDictionaryRules();

    // Official name: duplicates in the rules are an error unless lenient, which de-duplicates them.
    @BooleanSetting(path = "lenient", defaultValue = false)
    boolean lenient();
}
