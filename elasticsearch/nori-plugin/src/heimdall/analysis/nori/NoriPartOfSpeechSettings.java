package heimdall.analysis.nori;

import org.elasticsearch.plugin.settings.AnalysisSettings;
import org.elasticsearch.plugin.settings.ListSetting;

import java.util.List;

@AnalysisSettings
public interface NoriPartOfSpeechSettings {
    @ListSetting(path = "stoptags")
    List<String> stoptags();
}
