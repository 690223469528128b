package heimdall.analysis.nori;

import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.ko.KoreanTokenizer;
import org.apache.lucene.analysis.ko.dict.UserDictionary;
import org.elasticsearch.plugin.Inject;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenizerFactory;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The official analysis-nori {@code nori_tokenizer}, rebuilt on the stable plugin API so that it installs on the
 * cut-down Elasticsearch distribution (the official plugin is not published to Maven Central).
 * The file-based {@code user_dictionary} option is not offered: the stable API has no path settings.
 */
@NamedComponent("nori_tokenizer")
public class NoriTokenizerFactory implements TokenizerFactory {
    private final KoreanTokenizer.DecompoundMode decompoundMode;
    private final boolean discardPunctuation;
    private final UserDictionary userDictionary;

    @Inject
    public NoriTokenizerFactory(NoriTokenizerSettings settings) {
        decompoundMode = KoreanTokenizer.DecompoundMode.valueOf(settings.decompoundMode().toUpperCase(Locale.ROOT));
        discardPunctuation = settings.discardPunctuation();
        userDictionary = userDictionary(settings.userDictionaryRules(), settings.lenient());
    }

    // Built once per analysis definition and shared by every tokenizer it creates (the dictionary is immutable).
    static UserDictionary userDictionary(List<String> rules, boolean lenient) {
        if (rules.isEmpty()) {
            return null;
        }
        if (lenient) {
            rules = rules.stream().distinct().toList();
        } else {
            checkDuplicates(rules);
        }
        try {
            return UserDictionary.open(new StringReader(String.join("\n", rules)));
        } catch (IOException e) {
            throw new UncheckedIOException("failed to load nori user dictionary", e);
        }
    }

    // Lucene accepts repeated rules silently; the official plugin rejects them (for indices created since 8.13) with
    // this message, counting lines from 0 and comment lines included.
    private static void checkDuplicates(List<String> rules) {
        Set<String> seen = new HashSet<>();
        for (int line = 0; line < rules.size(); line++) {
            String rule = rules.get(line);
            if (rule.startsWith("#") == false && seen.add(rule) == false) {
                throw new IllegalArgumentException("Found duplicate term [" + rule + "] in user dictionary at line [" + line + "]");
            }
        }
    }

    @Override
    public Tokenizer create() {
        return new KoreanTokenizer(
            KoreanTokenizer.DEFAULT_TOKEN_ATTRIBUTE_FACTORY,
            userDictionary,
            decompoundMode,
            false,
            discardPunctuation
        );
    }
}
